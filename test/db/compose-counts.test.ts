import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { countComposes } from "../../src/db/compose-list.ts";
import { createComposeWithJob, moveCompose } from "../../src/db/composes.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { composes, events } from "../../src/db/schema.ts";
import { createTestDb, MIGRATIONS, migrationsBefore, tempDir } from "../helpers/db.ts";
import { givenCompose, T0 } from "../helpers/given.ts";

/** compose_counts as a map, rows with n = 0 left out. */
async function stored(client: Client): Promise<Record<string, number>> {
  const rs = await client.execute(
    "SELECT kind, key, n FROM compose_counts WHERE n <> 0 AND kind <> 'writes'",
  );
  return Object.fromEntries(rs.rows.map((r) => [`${r.kind}:${r.key}`, Number(r.n)]));
}

/** Without the (state, source type) pairs, which `counted` checks. */
const singles = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("state_source_type:")));

/** The same counts computed from the table. */
async function counted(client: Client): Promise<Record<string, number>> {
  const rs = await client.execute(`
    SELECT 'all' AS kind, '' AS key, count(*) AS n FROM composes HAVING n > 0
    UNION ALL SELECT 'state', state, count(*) FROM composes GROUP BY state
    UNION ALL SELECT 'owner', owner, count(*) FROM composes GROUP BY owner
    UNION ALL SELECT 'source_type', source_type, count(*) FROM composes GROUP BY source_type
    UNION ALL SELECT 'state_source_type', state || '/' || source_type, count(*) FROM composes
      GROUP BY state, source_type`);
  return Object.fromEntries(rs.rows.map((r) => [`${r.kind}:${r.key}`, Number(r.n)]));
}

describe("compose_counts", () => {
  it("follows every insert, state/owner/source type change and delete", async () => {
    const { db, client } = await createTestDb();
    expect(await stored(client)).toEqual({});
    expect(await counted(client)).toEqual({});
    const a = await givenCompose(db, { owner: "alice" });
    const b = await givenCompose(db, { owner: "bob", sourceType: 4 });
    await createComposeWithJob(
      db,
      {
        owner: "alice",
        sourceType: 3,
        source: "/srv/r",
        timeSubmitted: T0,
        timeToExpire: T0 + 1000,
        arches: "x86_64",
      },
      { now: T0, maxAttempts: 3 },
    );
    expect(await stored(client)).toEqual(await counted(client));
    expect(singles(await stored(client))).toEqual({
      "all:": 3,
      "state:0": 3,
      "owner:alice": 2,
      "owner:bob": 1,
      "source_type:3": 2,
      "source_type:4": 1,
    });
    await moveCompose(db, a.id, "wait", "generating", T0);
    await moveCompose(db, a.id, "generating", "done", T0);
    await db.update(composes).set({ owner: "carol", sourceType: 3 }).where(eq(composes.id, b.id));
    // An update touching none of the counted columns changes nothing.
    await db.update(composes).set({ label: "x" }).where(eq(composes.id, a.id));
    // A rolled-back transaction leaves the counts as they were.
    await expect(
      db.transaction(async (tx) => {
        await tx.update(composes).set({ state: 4 }).where(eq(composes.id, b.id));
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    await db.delete(events).where(eq(events.composeId, a.id));
    await db.delete(composes).where(eq(composes.id, a.id));
    expect(await stored(client)).toEqual(await counted(client));
    expect(singles(await stored(client))).toEqual({
      "all:": 2,
      "state:0": 2,
      "owner:alice": 1,
      "owner:carol": 1,
      "source_type:3": 2,
    });
    expect(await countComposes(db, {})).toBe(2);
    expect(await countComposes(db, { state: 0 })).toBe(2);
    expect(await countComposes(db, { state: 2 })).toBe(0);
    expect(await countComposes(db, { owner: "carol" })).toBe(1);
    expect(await countComposes(db, { owner: "nobody" })).toBe(0);
    expect(await countComposes(db, { sourceType: 3 })).toBe(2);
    // Shapes without stored counts are counted.
    expect(await countComposes(db, { owner: "carol", state: 0 })).toBe(1);
    expect(await countComposes(db, { source: "/srv/r" })).toBe(1);
  });

  it("the migration fills the counts of a database that already has composes", async () => {
    // The migrations up to the one before the counts, then rows, then the rest.
    const dir = migrationsBefore("0003_list_indexes");
    const client = createClient({ url: `file:${join(tempDir("odcs-db-"), "odcs.db")}` });
    await migrateDatabase(client, dir);
    // Rows in that schema's columns (today's schema has columns later migrations add).
    for (let i = 0; i < 7; i++)
      await client.execute({
        sql: `INSERT INTO composes (owner, source_type, source, state, time_submitted, time_to_expire, arches)
              VALUES (?, ?, '/srv/repos/a', ?, 0, 86400000, 'x86_64')`,
        args: [i % 2 ? "alice" : "bob", 3 + (i % 2), i % 3],
      });
    await migrateDatabase(client, MIGRATIONS);
    const db = createDb(client);
    expect(await stored(client)).toEqual(await counted(client));
    expect((await stored(client))["all:"]).toBe(7);
    await givenCompose(db, { owner: "alice" });
    expect(await countComposes(db, { owner: "alice" })).toBe(4);
  });
});
