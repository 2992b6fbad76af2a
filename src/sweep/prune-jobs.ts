import { deleteFinishedJobs } from "../db/sweep-scans.ts";
import type { SweepDeps } from "./expire.ts";

export const DEFAULT_JOBS_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
/** Jobs deleted per statement, so other writers wait for at most one short batch. */
const PRUNE_BATCH = 1000;

/**
 * Delete done and failed jobs last updated more than `retentionDays` ago
 * (ODCS_JOBS_RETENTION_DAYS). A job is only the means of building its
 * compose; the compose row and its events stay. Idempotent, safe in
 * several processes at once. Returns how many jobs went.
 */
export async function pruneFinishedJobs(
  deps: Pick<SweepDeps, "db" | "now" | "log">,
  retentionDays: number,
): Promise<number> {
  const before = deps.now().getTime() - retentionDays * DAY_MS;
  let total = 0;
  for (;;) {
    const n = await deleteFinishedJobs(deps.db, before, PRUNE_BATCH);
    total += n;
    if (n < PRUNE_BATCH) break;
  }
  if (total > 0) deps.log.info("finished jobs pruned", { count: total, retentionDays });
  return total;
}
