import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { type ComposeRpmRow, composeRpms, type NewComposeRpmRow } from "./schema.ts";

/** SQLite limits bound parameters per statement; insert in chunks. */
const CHUNK = 500;

export async function insertComposeRpms(tx: DbOrTx, rows: NewComposeRpmRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK)
    await tx.insert(composeRpms).values(rows.slice(i, i + CHUNK));
}

export async function listComposeRpms(db: DbOrTx, composeId: number): Promise<ComposeRpmRow[]> {
  return db
    .select()
    .from(composeRpms)
    .where(eq(composeRpms.composeId, composeId))
    .orderBy(asc(composeRpms.id));
}
