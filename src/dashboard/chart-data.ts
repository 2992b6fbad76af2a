import { COMPOSE_STATES } from "../domain/states.ts";

/** The periods the charts page offers: name → length and bucket size (ms). */
export const RANGES = {
  "24h": { label: "last 24 hours", spanMs: 86_400_000, bucketMs: 3_600_000 },
  "7d": { label: "last 7 days", spanMs: 7 * 86_400_000, bucketMs: 3_600_000 },
} as const;
export type RangeName = keyof typeof RANGES;

export interface StateEvent {
  at: number;
  fromState: number | null;
  toState: number;
}

export interface FinishedBucket {
  start: number;
  done: number;
  failed: number;
}

/** Composes that reached done or failed, per bucket of `bucketMs` from `from` to `to`. */
export function finishedPerBucket(
  events: readonly StateEvent[],
  from: number,
  to: number,
  bucketMs: number,
): FinishedBucket[] {
  const n = Math.ceil((to - from) / bucketMs);
  const out = Array.from({ length: n }, (_, i) => ({
    start: from + i * bucketMs,
    done: 0,
    failed: 0,
  }));
  for (const e of events) {
    if (e.at < from || e.at >= to) continue;
    const b = out[Math.floor((e.at - from) / bucketMs)];
    if (!b) continue;
    if (e.toState === COMPOSE_STATES.done) b.done++;
    else if (e.toState === COMPOSE_STATES.failed) b.failed++;
  }
  return out;
}

/** Nearest-rank percentile `p` (0–100) of sorted values; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface DurationStats {
  sourceType: number;
  count: number;
  p50: number;
  p90: number;
  p99: number;
}

/** p50/p90/p99 generation time per source type, source types in code order. */
export function generationPercentiles(
  rows: readonly { sourceType: number; ms: number }[],
): DurationStats[] {
  const by = new Map<number, number[]>();
  for (const r of rows) {
    if (!Number.isFinite(r.ms) || r.ms < 0) continue;
    const list = by.get(r.sourceType) ?? [];
    list.push(r.ms);
    by.set(r.sourceType, list);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([sourceType, values]) => {
      values.sort((a, b) => a - b);
      return {
        sourceType,
        count: values.length,
        p50: percentile(values, 50) ?? 0,
        p90: percentile(values, 90) ?? 0,
        p99: percentile(values, 99) ?? 0,
      };
    });
}

const isActive = (state: number | null) =>
  state === COMPOSE_STATES.wait || state === COMPOSE_STATES.generating;

/** How an event changes the number of waiting + generating composes. */
export function depthDelta(e: StateEvent): number {
  return (isActive(e.toState) ? 1 : 0) - (isActive(e.fromState) ? 1 : 0);
}

export interface DepthBucket {
  start: number;
  /** Highest queue depth seen in the bucket. */
  max: number;
}

/**
 * Queue depth (waiting + generating) over [from, to), as the highest depth
 * of each bucket. Worked out backwards from `depthAtTo`, the depth now,
 * undoing the events in the range; needs only the range's events.
 */
export function queueDepthPerBucket(
  events: readonly StateEvent[],
  from: number,
  to: number,
  bucketMs: number,
  depthAtTo: number,
): DepthBucket[] {
  const inRange = events.filter((e) => e.at >= from && e.at < to);
  let depth = depthAtTo;
  for (const e of inRange) depth -= depthDelta(e);
  const n = Math.ceil((to - from) / bucketMs);
  const out = Array.from({ length: n }, (_, i) => ({ start: from + i * bucketMs, max: 0 }));
  let i = 0;
  for (const b of out) {
    b.max = Math.max(0, depth);
    const end = b.start + bucketMs;
    while (i < inRange.length && (inRange[i]?.at ?? end) < end) {
      depth += depthDelta(inRange[i] as StateEvent);
      b.max = Math.max(b.max, depth);
      i++;
    }
  }
  return out;
}
