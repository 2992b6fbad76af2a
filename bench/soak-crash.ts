/**
 * The soak's kills at random moments (`npm run soak -- --crash-points SHARE`,
 * `npm run soak:crash`): a share of the process starts of a run (the first
 * ones and every restart) is armed, through ODCS_TEST_CRASH_AT, at a crash
 * point (src/crash-points.ts) drawn from the soak's seed among the points
 * that kind of process reaches. A process that gets there stops itself;
 * the harness sees it, kill -9s it and starts it again (armed anew).
 *
 * Which process reaches a point is read from the point's description
 * ("worker: …", "server: …"), so a point added to CRASH_POINTS is drawn
 * without a change here.
 */
import { CRASH_POINTS, type CrashPoint } from "../src/crash-points.ts";
import { prng } from "../test/helpers/corpus.ts";

export type ProcessKind = "worker" | "server";

/** The crash points a process of `kind` reaches. */
export function crashPointsOf(kind: ProcessKind): CrashPoint[] {
  return (Object.keys(CRASH_POINTS) as CrashPoint[]).filter((p) =>
    CRASH_POINTS[p].startsWith(kind),
  );
}

/**
 * A well-mixed 32-bit seed (murmur3's finaliser): the xorshift's first
 * draws from neighbouring seeds are close, so seeds 11, 12, 13 would arm
 * nearly the same points first.
 */
function scramble(n: number): number {
  let z = n >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The line a process armed at `point` logs when it gets there (node/lifecycle.ts). */
export const reachedText = (point: CrashPoint) => `crash point ${point} reached`;

/**
 * Draws the crash point of each process start and counts the points
 * reached. A draw takes two points at random and keeps the one reached
 * fewer times so far, so a run spreads its kills over every point instead
 * of the points reached soonest.
 */
export class CrashArming {
  readonly #rnd: () => number;
  readonly #share: number;
  readonly #reached = new Map<CrashPoint, number>();
  readonly #armed = new Map<CrashPoint, number>();

  /** `share`: the fraction (0–1) of process starts armed; `seed`: the soak's seed. */
  constructor(seed: number, share: number) {
    this.#rnd = prng(scramble(seed + 4_000_003));
    this.#share = share;
    for (const p of Object.keys(CRASH_POINTS) as CrashPoint[]) {
      this.#reached.set(p, 0);
      this.#armed.set(p, 0);
    }
  }

  get enabled(): boolean {
    return this.#share > 0;
  }

  /** The point to arm a starting process of `kind` at, or `undefined` (not armed this time). */
  draw(kind: ProcessKind): CrashPoint | undefined {
    if (this.#share <= 0 || this.#rnd() >= this.#share) return undefined;
    const points = crashPointsOf(kind);
    const one = () => points[Math.floor(this.#rnd() * points.length)] as CrashPoint;
    const a = one();
    const b = one();
    const p = (this.#reached.get(b) ?? 0) < (this.#reached.get(a) ?? 0) ? b : a;
    this.#armed.set(p, (this.#armed.get(p) ?? 0) + 1);
    return p;
  }

  /** Count a process stopped at `point`. */
  reached(point: CrashPoint): void {
    this.#reached.set(point, (this.#reached.get(point) ?? 0) + 1);
  }

  /** Per point: how often a process was armed there, and how often one got there and was killed. */
  counts(): Record<string, { armed: number; reached: number }> {
    const out: Record<string, { armed: number; reached: number }> = {};
    for (const [p, reached] of this.#reached) out[p] = { armed: this.#armed.get(p) ?? 0, reached };
    return out;
  }
}

/**
 * Whether a process's output says it stopped at `point`; `from` is where
 * the last look ended (the output only grows), so a long run does not scan
 * megabytes of log every time.
 */
export function hasReached(
  output: string,
  point: CrashPoint,
  from: number,
): { reached: boolean; next: number } {
  const text = reachedText(point);
  const start = Math.max(0, from - text.length);
  return { reached: output.indexOf(text, start) >= 0, next: output.length };
}
