import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { settleStrandedReusers, transitionCompose } from "../db/composes.ts";
import { failExhaustedJobs, requeueExpiredLeases } from "../db/jobs.ts";
import { composes } from "../db/schema.ts";
import { COMPOSE_STATES } from "../domain/states.ts";
import { REASONS } from "../domain/transitions.ts";
import type { SweepDeps } from "./expire.ts";

/**
 * Requeue running jobs whose worker stopped heartbeating, and fail the
 * composes of jobs that have used all their attempts, with the last error.
 * Both are conditional UPDATEs, safe in several processes at once.
 */
export async function requeueAndFailJobs(
  deps: Pick<SweepDeps, "db" | "now" | "log">,
): Promise<{ requeued: number; failed: number[] }> {
  const now = deps.now().getTime();
  const requeued = await requeueExpiredLeases(deps.db, now);
  for (const j of requeued)
    deps.log.warn("requeued a job whose worker stopped", { job: j.id, compose: j.composeId });
  const exhausted = await failExhaustedJobs(deps.db, now);
  const failed: number[] = [];
  for (const j of exhausted) {
    const reason = REASONS.error(
      `gave up after ${j.attempts} attempts; last error: ${j.lastError ?? "the worker running it stopped"}`,
    );
    const moved = await failCompose(deps.db, j.composeId, reason, now);
    if (moved) failed.push(j.composeId);
  }
  for (const id of await settleStrandedReusers(deps.db, now))
    deps.log.warn("settled a compose following a settled one", { compose: id });
  return { requeued: requeued.length, failed };
}

async function failCompose(
  db: Db,
  composeId: number,
  reason: string,
  now: number,
): Promise<boolean> {
  const [row] = await db
    .select({ state: composes.state })
    .from(composes)
    .where(eq(composes.id, composeId));
  if (row?.state === COMPOSE_STATES.generating) {
    return (
      (await transitionCompose(db, composeId, "generating", "failed", now, {
        stateReason: reason,
      })) !== undefined
    );
  }
  if (row?.state === COMPOSE_STATES.wait) {
    return (
      (await transitionCompose(db, composeId, "wait", "failed", now, { stateReason: reason })) !==
      undefined
    );
  }
  return false;
}
