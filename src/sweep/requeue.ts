import { storageFailure } from "../api/errors.ts";
import type { Db } from "../db/client.ts";
import { deleteComposeRpms } from "../db/compose-rpms.ts";
import { moveCompose, settleStrandedReusers } from "../db/composes.ts";
import {
  extendExpiredLeases,
  failExhaustedJob,
  listExhaustedJobs,
  requeueExpiredLeases,
} from "../db/jobs.ts";
import type { JobRow } from "../db/schema.ts";
import { REASONS } from "../domain/transitions.ts";
import type { SweepDeps } from "./expire.ts";
import { clearFailedCompose } from "./leftovers.ts";

/**
 * What one process remembers between its requeue runs. While the database
 * refuses writes (its disk full) no worker can heartbeat, so every running
 * job's lease runs out; the first requeue run that gets through after a
 * refused one extends those leases by one lease instead of requeueing
 * them, so live workers renew their jobs and finish them (a requeue would
 * cost each an attempt and a rerun), and the jobs of workers that really
 * died are requeued one lease later.
 */
export interface RequeueMemory {
  refused: boolean;
}

/** Exhausted jobs failed per run; the rest wait for the next one. */
const BATCH = 200;

/**
 * Requeue running jobs whose worker stopped heartbeating, and fail the jobs
 * that have used all their attempts together with their composes, with the
 * last error. Conditional writes, safe in several processes at once; each
 * step leaves a consistent state behind, so a crash anywhere is finished
 * by the next run (a requeued job on its last attempt is an exhausted one).
 */
export async function requeueAndFailJobs(
  deps: Pick<SweepDeps, "db" | "now" | "log" | "leaseMs"> & { targetDir?: string },
  memory?: RequeueMemory,
): Promise<{ requeued: number; failed: number[] }> {
  const now = deps.now().getTime();
  let requeued: JobRow[] = [];
  try {
    if (memory?.refused && deps.leaseMs !== undefined) {
      const extended = await extendExpiredLeases(deps.db, now, deps.leaseMs);
      memory.refused = false;
      if (extended > 0)
        deps.log.warn("the database takes writes again; expired leases extended once", {
          jobs: extended,
        });
    } else requeued = await requeueExpiredLeases(deps.db, now);
  } catch (err) {
    if (memory && storageFailure(err) !== undefined) memory.refused = true;
    throw err;
  }
  for (const j of requeued)
    deps.log.warn("requeued a job whose worker stopped", { job: j.id, compose: j.composeId });
  const failed: number[] = [];
  for (const j of await listExhaustedJobs(deps.db, BATCH)) {
    const reason = REASONS.error(
      `gave up after ${j.attempts} attempts; last error: ${j.lastError ?? "the worker running it stopped"}`,
    );
    if (await failJobAndCompose(deps.db, j.id, j.composeId, reason, now)) {
      failed.push(j.composeId);
      // Its last worker may have died after renaming the full tree into place.
      if (deps.targetDir !== undefined) await clearFailedCompose(deps.targetDir, j.composeId);
    }
  }
  for (const id of await settleStrandedReusers(deps.db, now))
    deps.log.warn("settled a compose following a settled one", { compose: id });
  return { requeued: requeued.length, failed };
}

/**
 * The job and its compose fail in one transaction: a crash between the two
 * would leave a compose in wait/generating with no job left to settle it.
 * True when the compose moved (it may have been settled another way).
 */
async function failJobAndCompose(
  db: Db,
  jobId: number,
  composeId: number,
  reason: string,
  now: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await failExhaustedJob(tx, jobId, now))) return false;
    const moved = await moveCompose(tx, composeId, ["generating", "wait"], "failed", now, {
      stateReason: reason,
    });
    // As failGenerate: a failed compose has no package set (its last attempt may have recorded one).
    if (moved) await deleteComposeRpms(tx, composeId);
    return moved;
  });
}
