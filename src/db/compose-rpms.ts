import { asc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { type ComposeRpmRow, composeRpms, type NewComposeRpmRow } from "./schema.ts";

/**
 * Rows per statement. Each chunk travels as one JSON parameter unpacked by
 * SQLite's `json_each`: a multi-row VALUES insert through drizzle costs
 * ~25 µs a row to build and bind (13 parameters each), the JSON route ~5 µs
 * (measured on 1 627 rows: 35–80 ms → ~10 ms), which is most of the
 * bookkeeping of a large compose. Chunked only to bound one statement's size.
 */
const CHUNK = 5000;

/** Column order of the JSON arrays, matching the INSERT below. */
const rowArray = (r: NewComposeRpmRow) => [
  r.composeId,
  r.treeArch,
  r.name,
  r.epoch,
  r.version,
  r.release,
  r.arch,
  r.sigkey ?? null,
  r.checksumType,
  r.checksum,
  r.sourceRepo,
  r.location,
  r.path,
];

export async function insertComposeRpms(tx: DbOrTx, rows: NewComposeRpmRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const json = JSON.stringify(rows.slice(i, i + CHUNK).map(rowArray));
    await tx.run(sql`
      INSERT INTO compose_rpms (compose_id, tree_arch, name, epoch, version, release, arch,
                                sigkey, checksum_type, checksum, source_repo, location, path)
      SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
             value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11,
             value ->> 12
        FROM json_each(${json})`);
  }
}

export async function listComposeRpms(db: DbOrTx, composeId: number): Promise<ComposeRpmRow[]> {
  return db
    .select()
    .from(composeRpms)
    .where(eq(composeRpms.composeId, composeId))
    .orderBy(asc(composeRpms.id));
}
