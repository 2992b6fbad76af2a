import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterAll } from "vitest";
import { BUSY_TIMEOUT_MS, createDb, type Db } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";

export const MIGRATIONS = join(import.meta.dirname, "../../migrations");

const dirs: string[] = [];
const removeDirs = () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
};
try {
  afterAll(removeDirs);
} catch {
  // Loaded outside vitest (the soak harness, `npm run soak`): removed at exit.
  process.once("exit", removeDirs);
}

/** A scratch directory removed after the test file. */
export function tempDir(prefix = "odcs-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A freshly migrated libSQL database in its own temp file. */
export async function createTestDb(): Promise<{ db: Db; client: Client; url: string }> {
  const url = `file:${join(tempDir("odcs-db-"), "odcs.db")}`;
  const client = createClient({ url, timeout: BUSY_TIMEOUT_MS });
  await migrateDatabase(client, MIGRATIONS);
  return { db: createDb(client), client, url };
}

/**
 * A copy of the migrations folder holding only those before `tag` (e.g.
 * "0003_list_indexes"): a database as an older release left it, to migrate
 * with `MIGRATIONS` afterwards.
 */
export function migrationsBefore(tag: string): string {
  const dir = tempDir("odcs-migrations-");
  cpSync(MIGRATIONS, dir, { recursive: true });
  const path = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(path, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at < 0) throw new Error(`no migration ${tag}`);
  writeFileSync(path, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return dir;
}
