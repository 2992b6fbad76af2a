/**
 * Several processes started at once on one fresh (or older) database — a
 * server and its workers brought up together, or replicas upgraded at once —
 * all migrate it. drizzle reads which migrations are applied before it takes
 * the write lock, so all but the first found their tables made ("table
 * `compose_rpms` already exists") and the process exited. Each client here
 * is one process's (its own connections to the file); their awaits
 * interleave as separate processes' do.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterEach, expect, test } from "vitest";
import { BUSY_TIMEOUT_MS } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { MIGRATIONS, migrationsBefore, tempDir } from "../helpers/db.ts";

const opened: Client[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});
const clients = (url: string, n: number) =>
  Array.from({ length: n }, () => {
    const c = createClient({ url, timeout: BUSY_TIMEOUT_MS });
    opened.push(c);
    return c;
  });

const journal = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")) as { entries: unknown[] })
    .entries.length;

async function applied(client: Client): Promise<number> {
  const r = await client.execute("SELECT count(*) FROM __drizzle_migrations");
  return Number(r.rows[0]?.[0]);
}

/** Each client migrates at once; "ok" or the error each got. */
async function migrateAtOnce(all: Client[]): Promise<string[]> {
  const results = await Promise.allSettled(all.map((c) => migrateDatabase(c, MIGRATIONS)));
  return results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"));
}

test("four processes migrating one fresh database at once all start, each migration applied once", async () => {
  const url = `file:${join(tempDir(), "odcs.db")}`;
  const all = clients(url, 4);
  expect(await migrateAtOnce(all)).toEqual(["ok", "ok", "ok", "ok"]);
  expect(await applied(all[0] as Client)).toBe(journal(MIGRATIONS));
  const tables = await (all[0] as Client).execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'composes'",
  );
  expect(tables.rows).toHaveLength(1);
});

test("replicas upgrading an older database at once: the newer migrations applied once", async () => {
  // A database at the first migration only, as an older release left it.
  const old = migrationsBefore("0001_compose_reuse");
  const url = `file:${join(tempDir(), "odcs.db")}`;
  const [first] = clients(url, 1);
  await migrateDatabase(first as Client, old);
  expect(await applied(first as Client)).toBe(1);

  expect(await migrateAtOnce(clients(url, 3))).toEqual(["ok", "ok", "ok"]);
  expect(await applied(first as Client)).toBe(journal(MIGRATIONS));
});

test("a migration that really fails still fails, and leaves nothing of itself", async () => {
  const bad = tempDir();
  cpSync(MIGRATIONS, bad, { recursive: true });
  const meta = JSON.parse(readFileSync(join(bad, "meta", "_journal.json"), "utf8"));
  const last = meta.entries.at(-1);
  meta.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1, tag: "9999_broken" });
  writeFileSync(join(bad, "meta", "_journal.json"), JSON.stringify(meta));
  writeFileSync(
    join(bad, "9999_broken.sql"),
    "CREATE TABLE broken_half (x INTEGER);\n--> statement-breakpoint\nCREATE TABLE composes (x INTEGER);\n",
  );
  const url = `file:${join(tempDir(), "odcs.db")}`;
  const [client] = clients(url, 1);
  await migrateDatabase(client as Client, MIGRATIONS);
  await expect(migrateDatabase(client as Client, bad)).rejects.toThrow(
    /table `?composes`? already exists/,
  );
  const half = await (client as Client).execute(
    "SELECT name FROM sqlite_master WHERE name = 'broken_half'",
  );
  expect(half.rows).toHaveLength(0);
  expect(await applied(client as Client)).toBe(journal(MIGRATIONS));
});

test("0010: composes still waiting or generating lose a published tree a regenerating copy took from its original", async () => {
  const url = `file:${join(tempDir(), "odcs.db")}`;
  const [client] = clients(url, 1);
  const c = client as Client;
  await migrateDatabase(c, migrationsBefore("0010_clear_unsettled_published_attempt"));
  for (const [state, attempt] of [
    [0, "attempt-1-aaaaaaaa"],
    [1, "attempt-2-bbbbbbbb"],
    [2, "attempt-1-cccccccc"],
    [4, "attempt-3-dddddddd"],
    [0, null],
  ] as const)
    await c.execute({
      sql: `INSERT INTO composes (owner, source_type, source, state, time_submitted, time_to_expire, arches, published_attempt)
            VALUES ('me', 3, '/srv/r', ?, 0, 86400000, 'x86_64', ?)`,
      args: [state, attempt],
    });
  await migrateDatabase(c, MIGRATIONS);
  const rows = await c.execute("SELECT state, published_attempt FROM composes ORDER BY id");
  expect(rows.rows.map((r) => [r[0], r[1]])).toEqual([
    [0, null],
    [1, null],
    [2, "attempt-1-cccccccc"],
    [4, "attempt-3-dddddddd"],
    [0, null],
  ]);
});
