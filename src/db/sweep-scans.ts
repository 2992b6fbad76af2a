import { and, eq, gt, inArray, isNotNull, lt, ne, sql } from "drizzle-orm";
import { COMPOSE_STATES } from "../domain/states.ts";
import type { DbOrTx } from "./client.ts";
import { CANCELED } from "./jobs.ts";
import { composes, jobs, uploads } from "./schema.ts";

/** Ids per statement: well under SQLite's 32 766 bound parameters. */
const IDS_PER_QUERY = 500;

export interface ComposeDirStatus {
  /** Ids that have a compose row (any state). */
  known: Set<number>;
  /** Ids whose files must stay: the compose is not removed, or a compose that is not removed reuses it. */
  kept: Set<number>;
}

/**
 * What the orphan scan needs to know about many compose ids at once: two
 * indexed queries per 500 ids instead of two per directory.
 */
export async function composeDirStatus(db: DbOrTx, ids: number[]): Promise<ComposeDirStatus> {
  const known = new Set<number>();
  const kept = new Set<number>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY);
    const [rows, reused] = await Promise.all([
      db
        .select({ id: composes.id, state: composes.state })
        .from(composes)
        .where(inArray(composes.id, chunk)),
      db
        .selectDistinct({ id: composes.reusedId })
        .from(composes)
        .where(and(inArray(composes.reusedId, chunk), ne(composes.state, COMPOSE_STATES.removed))),
    ]);
    for (const r of rows) {
      known.add(r.id);
      if (r.state !== COMPOSE_STATES.removed) kept.add(r.id);
    }
    for (const r of reused) if (r.id !== null) kept.add(r.id);
  }
  return { known, kept };
}

/**
 * Delete up to `limit` done or failed jobs last updated before `before`
 * (epoch ms), oldest first; returns how many went. Queued and running jobs
 * are never touched. Batched so the write lock is held briefly.
 */
export async function deleteFinishedJobs(
  db: DbOrTx,
  before: number,
  limit: number,
): Promise<number> {
  const victims = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(inArray(jobs.state, ["done", "failed"]), lt(jobs.updatedAt, before)))
    .orderBy(jobs.updatedAt)
    .limit(limit);
  const rows = await db
    .delete(jobs)
    .where(inArray(jobs.id, sql`${victims}`))
    .returning({ id: jobs.id });
  return rows.length;
}

/**
 * Of `ids`, those a job may be working on: the compose is in `wait` or
 * `generating`, or its job was cancelled less than `canceledGraceMs` before
 * `now` by a worker that held it — that worker may still be discarding its
 * run in the staging tree (publishing the log, taking back a tree it
 * published in the race), and a cancel ends the job's lease at once. Their
 * staging trees stay; any other id's is stale.
 */
export async function composesInProgress(
  db: DbOrTx,
  ids: number[],
  now: number,
  canceledGraceMs: number,
): Promise<Set<number>> {
  const busy = new Set<number>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY);
    const rows = await db
      .select({ id: composes.id })
      .from(composes)
      .where(
        and(
          inArray(composes.id, chunk),
          inArray(composes.state, [COMPOSE_STATES.wait, COMPOSE_STATES.generating]),
        ),
      );
    for (const r of rows) busy.add(r.id);
    const canceled = await db
      .select({ id: jobs.composeId })
      .from(jobs)
      .where(
        and(
          inArray(jobs.composeId, chunk),
          eq(jobs.lastError, CANCELED),
          isNotNull(jobs.lockedBy),
          gt(jobs.updatedAt, now - canceledGraceMs),
        ),
      );
    for (const r of canceled) busy.add(r.id);
  }
  return busy;
}

/** Which of compose `ids` are failed. */
export async function failedComposes(db: DbOrTx, ids: number[]): Promise<Set<number>> {
  const failed = new Set<number>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const rows = await db
      .select({ id: composes.id })
      .from(composes)
      .where(
        and(
          inArray(composes.id, ids.slice(i, i + IDS_PER_QUERY)),
          eq(composes.state, COMPOSE_STATES.failed),
        ),
      );
    for (const r of rows) failed.add(r.id);
  }
  return failed;
}

/** Of upload `ids`, the state of each that has a row (ready or removed). */
export async function uploadStates(db: DbOrTx, ids: string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const rows = await db
      .select({ id: uploads.id, state: uploads.state })
      .from(uploads)
      .where(inArray(uploads.id, ids.slice(i, i + IDS_PER_QUERY)));
    for (const r of rows) states.set(r.id, r.state);
  }
  return states;
}
