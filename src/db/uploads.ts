import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { type UploadRow, uploads } from "./schema.ts";

export type NewUploadRow = typeof uploads.$inferInsert;

export async function insertUpload(db: DbOrTx, values: NewUploadRow): Promise<UploadRow> {
  const [row] = await db.insert(uploads).values(values).returning();
  if (!row) throw new Error("insert into uploads returned no row");
  return row;
}

export async function findUpload(db: DbOrTx, id: string): Promise<UploadRow | undefined> {
  const [row] = await db.select().from(uploads).where(eq(uploads.id, id)).limit(1);
  return row;
}

/** Bytes `owner` holds in uploads not removed and not yet expired at `now` (the quota's measure). */
export async function ownerUploadBytes(db: DbOrTx, owner: string, now: number): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`coalesce(sum(${uploads.bytes}), 0)` })
    .from(uploads)
    .where(
      and(eq(uploads.owner, owner), eq(uploads.state, "ready"), gt(uploads.timeToExpire, now)),
    );
  return Number(r?.n ?? 0);
}

/**
 * Mark a ready upload removed (by `by`: a user's DELETE, or the sweep).
 * Conditional, so of two processes only one gets the row back.
 */
export async function markUploadRemoved(
  db: DbOrTx,
  id: string,
  now: number,
  by: string | null,
): Promise<UploadRow | undefined> {
  const [row] = await db
    .update(uploads)
    .set({ state: "removed", timeRemoved: now, removedBy: by })
    .where(and(eq(uploads.id, id), eq(uploads.state, "ready")))
    .returning();
  return row;
}

/** Ready uploads whose expiry has passed at `now`, oldest expiry first. */
export async function listExpiredUploads(
  db: DbOrTx,
  now: number,
  limit: number,
): Promise<UploadRow[]> {
  return db
    .select()
    .from(uploads)
    .where(and(eq(uploads.state, "ready"), lte(uploads.timeToExpire, now)))
    .orderBy(asc(uploads.timeToExpire))
    .limit(limit);
}
