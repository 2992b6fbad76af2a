import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { type JobKind, type JobRow, jobs } from "./schema.ts";

/**
 * Queue a job. Idempotent: the partial unique index allows one queued job per
 * (kind, compose), so a second enqueue while one waits is a no-op.
 */
export async function enqueueJob(
  tx: DbOrTx,
  j: { composeId: number; kind: JobKind; now: number; maxAttempts: number; runAt?: number },
): Promise<void> {
  await tx
    .insert(jobs)
    .values({
      composeId: j.composeId,
      kind: j.kind,
      state: "queued",
      runAt: j.runAt ?? j.now,
      maxAttempts: j.maxAttempts,
      createdAt: j.now,
      updatedAt: j.now,
    })
    .onConflictDoNothing();
}

/**
 * Claim the next runnable job with one conditional UPDATE … RETURNING: SQLite
 * serialises writers, so two workers can never both flip the same row from
 * queued to running. Attempts are counted here, so a crash mid-run uses one.
 * `running`: the jobs this worker still runs, never claimed again by it —
 * the fences check the worker's name, so a second execution under the same
 * name would pass them all (a worker stalled past its lease, its job
 * requeued by the sweep, resumed: `npm run soak:crash -- --seed 34`).
 */
export async function claimNextJob(
  db: DbOrTx,
  workerId: string,
  now: number,
  leaseMs: number,
  running: readonly number[] = [],
): Promise<JobRow | undefined> {
  const notRunning =
    running.length === 0
      ? sql``
      : sql` AND id NOT IN (${sql.join(
          running.map((id) => sql`${id}`),
          sql`, `,
        )})`;
  const [job] = await db
    .update(jobs)
    .set({
      state: "running",
      lockedBy: workerId,
      attempts: sql`${jobs.attempts} + 1`,
      leaseUntil: now + leaseMs,
      updatedAt: now,
    })
    .where(
      and(
        eq(jobs.state, "queued"),
        eq(
          jobs.id,
          sql`(SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ${now} AND attempts < max_attempts${notRunning} ORDER BY run_at, id LIMIT 1)`,
        ),
      ),
    )
    .returning();
  return job;
}

const ownedBy = (jobId: number, workerId: string) =>
  and(eq(jobs.id, jobId), eq(jobs.lockedBy, workerId), eq(jobs.state, "running"));

/** Extend the lease; false means the lease was lost and the worker must stop writing. */
export async function heartbeatJob(
  db: DbOrTx,
  jobId: number,
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ leaseUntil: now + leaseMs, updatedAt: now })
    .where(ownedBy(jobId, workerId))
    .returning({ id: jobs.id });
  return rows.length === 1;
}

/** Mark done; false when the lease was lost (another worker may own the job now). */
export async function completeJob(
  tx: DbOrTx,
  jobId: number,
  workerId: string,
  now: number,
): Promise<boolean> {
  const rows = await tx
    .update(jobs)
    .set({ state: "done", leaseUntil: null, updatedAt: now })
    .where(ownedBy(jobId, workerId))
    .returning({ id: jobs.id });
  return rows.length === 1;
}

/** Finally fail the job (no retry); false when the lease was lost. */
export async function failJobFinally(
  tx: DbOrTx,
  jobId: number,
  workerId: string,
  error: string,
  now: number,
): Promise<boolean> {
  const rows = await tx
    .update(jobs)
    .set({ state: "failed", lastError: error, leaseUntil: null, updatedAt: now })
    .where(ownedBy(jobId, workerId))
    .returning({ id: jobs.id });
  return rows.length === 1;
}

/** Put the job back for a later attempt at `runAt`; false when the lease was lost. */
export async function retryJob(
  tx: DbOrTx,
  jobId: number,
  workerId: string,
  error: string,
  now: number,
  runAt: number,
): Promise<boolean> {
  const rows = await tx
    .update(jobs)
    .set({
      state: "queued",
      lastError: error,
      lockedBy: null,
      leaseUntil: null,
      runAt,
      updatedAt: now,
    })
    .where(ownedBy(jobId, workerId))
    .returning({ id: jobs.id });
  return rows.length === 1;
}

/** Give the job back without using up the attempt (graceful shutdown). */
export async function releaseJob(
  db: DbOrTx,
  jobId: number,
  workerId: string,
  now: number,
): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({
      state: "queued",
      lockedBy: null,
      leaseUntil: null,
      attempts: sql`max(${jobs.attempts} - 1, 0)`,
      updatedAt: now,
    })
    .where(ownedBy(jobId, workerId))
    .returning({ id: jobs.id });
  return rows.length === 1;
}

/** Running jobs whose worker stopped heartbeating go back to the queue. */
export async function requeueExpiredLeases(db: DbOrTx, now: number): Promise<JobRow[]> {
  return db
    .update(jobs)
    .set({
      state: "queued",
      lockedBy: null,
      leaseUntil: null,
      lastError: "worker lease expired",
      updatedAt: now,
    })
    .where(and(eq(jobs.state, "running"), lt(jobs.leaseUntil, now)))
    .returning();
}

/**
 * Extend every expired running lease to `now + leaseMs` (after the database
 * refused writes, so no worker could heartbeat); how many were extended.
 */
export async function extendExpiredLeases(
  db: DbOrTx,
  now: number,
  leaseMs: number,
): Promise<number> {
  const rows = await db
    .update(jobs)
    .set({ leaseUntil: now + leaseMs })
    .where(and(eq(jobs.state, "running"), lt(jobs.leaseUntil, now)))
    .returning({ id: jobs.id });
  return rows.length;
}

/** Queued jobs that have used every attempt (the sweep fails them and their composes). */
export async function listExhaustedJobs(db: DbOrTx, limit: number): Promise<JobRow[]> {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.state, "queued"), sql`${jobs.attempts} >= ${jobs.maxAttempts}`))
    .orderBy(jobs.id)
    .limit(limit);
}

/** Fail a queued job that has used every attempt; false when it is not one any more. */
export async function failExhaustedJob(tx: DbOrTx, jobId: number, now: number): Promise<boolean> {
  const rows = await tx
    .update(jobs)
    .set({ state: "failed", updatedAt: now })
    .where(
      and(
        eq(jobs.id, jobId),
        eq(jobs.state, "queued"),
        sql`${jobs.attempts} >= ${jobs.maxAttempts}`,
      ),
    )
    .returning({ id: jobs.id });
  return rows.length === 1;
}

export async function findJobForCompose(
  db: DbOrTx,
  composeId: number,
): Promise<JobRow | undefined> {
  const [job] = await db
    .select()
    .from(jobs)
    .where(eq(jobs.composeId, composeId))
    .orderBy(sql`${jobs.id} desc`)
    .limit(1);
  return job;
}

/** `last_error` of a job ended by a cancel (DELETE of a waiting or generating compose). */
export const CANCELED = "canceled";

/**
 * End the queued or running job of a compose for good: a DELETE cancelled
 * it. `locked_by` and `attempts` stay, so the execution that was running
 * can tell (`findCanceledJobs`) that it was cancelled rather than that it
 * lost its lease; its fenced writes (heartbeat, complete, fail, retry) all
 * fail from now on, and neither the sweep nor a worker claims it again.
 */
export async function cancelComposeJobs(tx: DbOrTx, composeId: number, now: number): Promise<void> {
  await tx
    .update(jobs)
    .set({ state: "failed", lastError: CANCELED, leaseUntil: null, updatedAt: now })
    .where(and(eq(jobs.composeId, composeId), inArray(jobs.state, ["queued", "running"])));
}

/**
 * Which of `runs` (this worker's executions: job id and the attempt it
 * claimed) were cancelled. One read by primary key, no write: cheap enough
 * to ask every ODCS_WORKER_CANCEL_CHECK_MS while jobs run.
 */
export async function findCanceledJobs(
  db: DbOrTx,
  workerId: string,
  runs: readonly { id: number; attempts: number }[],
): Promise<number[]> {
  if (runs.length === 0) return [];
  const rows = await db
    .select({ id: jobs.id, attempts: jobs.attempts })
    .from(jobs)
    .where(
      and(
        inArray(
          jobs.id,
          runs.map((r) => r.id),
        ),
        eq(jobs.state, "failed"),
        eq(jobs.lastError, CANCELED),
        eq(jobs.lockedBy, workerId),
      ),
    );
  return rows
    .filter((r) => runs.some((x) => x.id === r.id && x.attempts === r.attempts))
    .map((r) => r.id);
}
