/**
 * Worker processes killed at chosen moments (test/e2e/crash-moments-*.test.ts):
 * an in-process API over a libSQL file on the real clock, worker processes
 * (src/worker.ts) over the same file, and the checks that must hold once the
 * compose has settled after the kill.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { expireComposes, removeOrphanDirs } from "../../src/sweep/expire.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import { stateProblems } from "./crash-invariants.ts";
import { tempDir } from "./db.ts";
import { DAY_MS } from "./given.ts";
import { doubleCompletions, leftoverProblems, publishedTreeProblems } from "./published-tree.ts";
import { composeHarness, LIBDNF_REPO, type ServiceProcess, startService } from "./service.ts";
import { waitFor } from "./wait.ts";

export type Harness = Awaited<ReturnType<typeof composeHarness>>;

const closers: (() => Promise<unknown>)[] = [];
/** Kill every worker process and close every server `setup` made (afterAll). */
export async function closeAll(): Promise<void> {
  for (const c of closers.splice(0)) await c();
}

/** Close `c` in `closeAll`. */
export function closeLater(c: () => Promise<unknown>): void {
  closers.push(c);
}

export const REQUEST = { source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } };
export const NAMES = ["abcde", "flac", "wget"];

/** A harness (in-process API on the real clock) and worker processes over its database. */
export async function setup(config: Record<string, unknown> = {}) {
  const h = await composeHarness(config);
  h.clock.set(new Date()); // the worker processes use the real clock
  const cacheDir = tempDir("odcs-crash-cache-");
  const procs: ServiceProcess[] = [];
  const worker = async (id: string, env: Record<string, string> = {}) => {
    const p = await startService({
      entry: "src/worker.ts",
      env: {
        ODCS_DATABASE_URL: h.dbUrl,
        ODCS_TARGET_DIR: h.target,
        ODCS_TARGET_DIR_URL: "http://localhost/odcs",
        ODCS_CACHE_DIR: cacheDir,
        ODCS_WORKER_ID: id,
        ODCS_WORKER_LEASE_MS: "1000",
        ODCS_WORKER_POLL_MS: "20",
        ...Object.fromEntries(
          Object.entries(config).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]),
        ),
        ...env,
      },
      readyText: "worker started",
      timeoutMs: 60_000,
    });
    procs.push(p);
    closeLater(() => p.kill());
    return p;
  };
  return { h, worker, procs };
}

/** Everything that must hold once the compose `id` has settled. */
export async function checkRecovered(
  h: Harness,
  procs: readonly ServiceProcess[],
  id: number,
  want: "done" | "failed",
): Promise<void> {
  const row = await h.row(id);
  expect(row.state, `compose ${id}: ${row.stateReason}`).toBe(want === "done" ? 2 : 4);
  if (want === "done") {
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect((await h.rpms(id)).map((r) => r.name).sort()).toEqual(NAMES);
  }
  expect(await stateProblems(h.db)).toEqual([]);
  // The worker points the link at the tree it chose right after committing the
  // outcome; until then a retry's link still shows the earlier attempt's tree.
  await waitFor(
    async () => (await publishedTreeProblems(h.db, h.target)).length === 0 || undefined,
    {
      what: "the link to show the tree the database chose",
    },
  ).catch(() => undefined);
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  // The worker clears the leftovers right after committing the outcome.
  await waitFor(async () => (await leftoverProblems(h.target)).length === 0 || undefined, {
    what: "no leftovers in .staging and .removing",
  }).catch(() => undefined);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect(doubleCompletions(procs.map((p) => p.output()))).toEqual([]);
  // Later, the sweep expires it and takes everything away.
  h.clock.set(new Date(Date.now() + 2 * DAY_MS));
  const deps = { db: h.db, now: () => h.clock.now(), log: silentLogger, targetDir: h.target };
  expect(await expireComposes(deps)).toEqual([id]);
  await removeOrphanDirs(deps);
  await removeLeftovers(deps);
  expect(existsSync(h.dir(id))).toBe(false);
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect(await stateProblems(h.db)).toEqual([]);
}

/** Wait (bounded) until compose `id` is done or failed. */
export async function settled(h: Harness, id: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => [2, 4].includes((await h.row(id)).state) || undefined, {
    timeoutMs,
    intervalMs: 20,
    what: `compose ${id} to settle`,
  });
}

/** Whether the published dir is absent, complete, or (never allowed) partial. */
export function published(h: Harness, id: number): "absent" | "complete" | "partial" {
  const dir = h.dir(id);
  if (!existsSync(dir)) return "absent";
  const complete = [
    "STATUS",
    "compose/Temporary/x86_64/os/repodata/repomd.xml",
    `compose/Temporary/odcs-${id}.repo`,
    "compose/metadata/rpms.json",
    "pungi-stderr.log",
  ].every((f) => existsSync(join(dir, f)));
  return complete ? "complete" : "partial";
}
