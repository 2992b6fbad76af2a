import { and, eq, exists, inArray, isNull } from "drizzle-orm";
import { COMPOSE_STATES } from "../domain/states.ts";
import type { DbOrTx } from "./client.ts";
import { CANCELED } from "./jobs.ts";
import { composes, jobs } from "./schema.ts";

/** Ids per statement: well under SQLite's bound-parameter limit. */
const IDS_PER_QUERY = 500;

/** What decides a compose's served tree: its state and the tree its settling commit chose. */
export interface PublishedChoice {
  state: number;
  publishedAttempt: string | null;
}

/** The choice of compose `id`, or undefined when there is no such compose. */
export async function findPublished(db: DbOrTx, id: number): Promise<PublishedChoice | undefined> {
  const [row] = await db
    .select({ state: composes.state, publishedAttempt: composes.publishedAttempt })
    .from(composes)
    .where(eq(composes.id, id));
  return row;
}

/** The choices of the composes among `ids` that exist (the sweep's batch read). */
export async function findPublishedMany(
  db: DbOrTx,
  ids: number[],
): Promise<Map<number, PublishedChoice>> {
  const out = new Map<number, PublishedChoice>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const rows = await db
      .select({
        id: composes.id,
        state: composes.state,
        publishedAttempt: composes.publishedAttempt,
      })
      .from(composes)
      .where(inArray(composes.id, ids.slice(i, i + IDS_PER_QUERY)));
    for (const r of rows) out.set(r.id, { state: r.state, publishedAttempt: r.publishedAttempt });
  }
  return out;
}

/**
 * Choose tree `token` for a compose a DELETE cancelled (failed, nothing
 * chosen), fenced like a settling commit: only if the cancelled job was
 * this execution's (`jobId` locked by `workerId` at `attempts`). A worker
 * whose job another took over, or a second discard, chooses nothing.
 * Returns whether it chose.
 */
export async function chooseCanceledTree(
  db: DbOrTx,
  composeId: number,
  token: string,
  run: { jobId: number; workerId: string; attempts: number },
): Promise<boolean> {
  const mine = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.id, run.jobId),
        eq(jobs.composeId, composeId),
        eq(jobs.lockedBy, run.workerId),
        eq(jobs.attempts, run.attempts),
        eq(jobs.state, "failed"),
        eq(jobs.lastError, CANCELED),
      ),
    );
  const rows = await db
    .update(composes)
    .set({ publishedAttempt: token })
    .where(
      and(
        eq(composes.id, composeId),
        eq(composes.state, COMPOSE_STATES.failed),
        isNull(composes.publishedAttempt),
        exists(mine),
      ),
    )
    .returning({ id: composes.id });
  return rows.length === 1;
}
