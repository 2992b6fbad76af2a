import { join } from "node:path";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { BUSY_TIMEOUT_MS, LOCAL_CONNECTIONS } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { MIGRATIONS, tempDir } from "../helpers/db.ts";

describe("migrateDatabase on a local file", () => {
  it("sets WAL and synchronous=NORMAL on every connection of the pool", async () => {
    const url = `file:${join(tempDir(), "odcs.db")}`;
    const client = createClient({ url, timeout: BUSY_TIMEOUT_MS, concurrency: LOCAL_CONNECTIONS });
    await migrateDatabase(client, MIGRATIONS);
    // Each open transaction holds its own connection, so these see all of them.
    const txs = await Promise.all(
      Array.from({ length: LOCAL_CONNECTIONS }, () => client.transaction("read")),
    );
    const seen = [];
    for (const tx of txs) {
      seen.push({
        synchronous: (await tx.execute("PRAGMA synchronous")).rows[0]?.[0],
        journal: (await tx.execute("PRAGMA journal_mode")).rows[0]?.[0],
      });
      tx.close();
    }
    // 1 = NORMAL (the default, FULL, is 2).
    expect(seen).toEqual(Array(LOCAL_CONNECTIONS).fill({ synchronous: 1, journal: "wal" }));
    client.close();
  });
});
