/**
 * Test-only crash points: the named moments at which the crash tests
 * (test/e2e/crash-moments-*.test.ts) stop a real process and kill -9 it.
 * The process entry (`node/lifecycle.ts`) alone reads `ODCS_TEST_CRASH_AT`
 * and arms at most one point; the code at each moment calls
 * `crashPoint(name)`, which is a comparison against `undefined` when
 * nothing is armed (always, outside those tests). An armed process logs
 * `crash point <name> reached` and stops itself (SIGSTOP) the first time it
 * gets there, so the test sees the disk and the database exactly as they
 * are at that moment before it sends SIGKILL.
 *
 * Moments that can be caught from outside (a download held by the test's
 * HTTP server, a tool held by a shim on PATH, a request body not finished)
 * are caught that way and have no point here.
 */
export const CRASH_POINTS = {
  "generate:started":
    "worker: the job is claimed and the compose moved to generating; nothing resolved or fetched yet",
  "generate:placed": "worker: every RPM is in the staging tree; no repodata started yet",
  "generate:repodata":
    "worker (native repodata writer): primary, filelists and other are written, repomd.xml not yet",
  "generate:staged": "worker: the staging tree is complete; not yet published",
  "generate:published":
    "worker: the tree is moved to its published place (and linked, if no link was there); the compose is not yet done in the database",
  "generate:done":
    "worker: done, the job complete and the tree chosen are committed; the link not yet pointed at it, nothing after that (wake-ups, leftovers) yet",
  "sweep:marked-removed":
    "server: the sweep marked an expired compose removed; its files are all still there",
  "sweep:removing":
    "server: the sweep moved an expired compose's link out of the served dir; its trees not yet deleted",
  "post:before-commit":
    "server: a compose row is being inserted by a create; the transaction is not committed",
  "post:after-commit": "server: a create is committed; its answer is not sent",
} as const;

export type CrashPoint = keyof typeof CRASH_POINTS;

let armed: { point: CrashPoint; act: (point: CrashPoint) => void } | undefined;

export function isCrashPoint(name: string): name is CrashPoint {
  return Object.hasOwn(CRASH_POINTS, name);
}

/** Arm `point` (the process entry does, from ODCS_TEST_CRASH_AT); throws on an unknown name. */
export function armCrashPoint(point: string, act: (point: CrashPoint) => void): void {
  if (!isCrashPoint(point))
    throw new Error(
      `ODCS_TEST_CRASH_AT=${point} is not a crash point; known: ${Object.keys(CRASH_POINTS).join(", ")}`,
    );
  armed = { point, act };
}

/** The armed point, if any. */
export function armedCrashPoint(): CrashPoint | undefined {
  return armed?.point;
}

/** Stop here if `point` is the armed one (once). */
export function crashPoint(point: CrashPoint): void {
  if (armed?.point !== point) return;
  const { act } = armed;
  armed = undefined;
  act(point);
}

const CREATE = /^\s*insert\s+into\s+"?composes"?[\s(]/im;

/**
 * The database hooks of the create points (`post:*`), for `setWriteFault` and
 * `setAfterWrite` on the process's database; `undefined` unless one is armed.
 * before-commit stops before the statement inserting a compose runs (in its
 * transaction, or as part of a batch); after-commit stops right after the
 * COMMIT of the transaction that inserted one (or after such a batch).
 */
export function createCrashHooks():
  | { fault: (sql: string) => void; afterWrite: (sql: string) => void }
  | undefined {
  const point = armed?.point;
  if (point !== "post:before-commit" && point !== "post:after-commit") return undefined;
  let inserted = false;
  return {
    fault: (sql) => {
      if (sql === "BEGIN") inserted = false;
      else if (CREATE.test(sql)) {
        if (point === "post:before-commit") crashPoint(point);
        inserted = true;
      }
    },
    afterWrite: (sql) => {
      if (point === "post:after-commit" && (CREATE.test(sql) || (sql === "COMMIT" && inserted)))
        crashPoint(point);
    },
  };
}
