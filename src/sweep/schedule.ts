import { Cron } from "croner";
import { expireComposes, removeOrphanDirs, type SweepDeps } from "./expire.ts";
import { expireUploads, removeAbandonedUploads } from "./expire-uploads.ts";
import { removeLeftovers } from "./leftovers.ts";
import { pruneOldEvents } from "./prune-events.ts";
import { DEFAULT_JOBS_RETENTION_DAYS, pruneFinishedJobs } from "./prune-jobs.ts";
import { type RequeueMemory, requeueAndFailJobs } from "./requeue.ts";

/** Run the sweep tasks on `pattern` (cron syntax); `protect` skips a tick while one still runs. */
export function scheduleSweep(
  deps: SweepDeps,
  pattern: string,
  jobsRetentionDays = DEFAULT_JOBS_RETENTION_DAYS,
): Cron {
  const memory: RequeueMemory = { refused: false };
  return new Cron(
    pattern,
    {
      protect: true,
      catch: (err) => deps.log.error("sweep failed", { err: String(err) }),
    },
    async () => {
      try {
        await requeueAndFailJobs(deps, memory);
        const removed = await expireComposes(deps);
        await removeOrphanDirs(deps);
        await removeLeftovers(deps);
        await expireUploads(deps);
        await removeAbandonedUploads(deps);
        const eventsPruned = await pruneOldEvents(deps);
        await pruneFinishedJobs(deps, jobsRetentionDays);
        deps.observe?.({ ok: true, removed: removed.length, eventsPruned });
      } catch (err) {
        deps.observe?.({ ok: false, removed: 0, eventsPruned: 0 });
        throw err;
      }
    },
  );
}
