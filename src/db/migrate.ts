import type { Client } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { configureLocalConnections, createDb } from "./client.ts";

/**
 * Tries of the migrations. Processes started at once on one database (a
 * server and its workers brought up together, replicas upgraded at once)
 * race: drizzle reads which migrations are applied before it takes the write
 * lock, so all but the first find their tables made ("table … already
 * exists"). Each run of the pending migrations is one transaction, so a
 * loser has written nothing: it reads again and finds nothing left to do.
 * A migration that really fails fails every try.
 */
const MIGRATE_TRIES = 5;

/**
 * Prepare a database for use: WAL for local files (readers never block the
 * writer, several processes can share the file), the per-connection
 * settings on every connection, and every pending migration.
 */
export async function migrateDatabase(client: Client, migrationsFolder: string): Promise<void> {
  if (client.protocol === "file") await client.execute("PRAGMA journal_mode = WAL");
  await configureLocalConnections(client);
  const db = createDb(client);
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, { migrationsFolder });
      return;
    } catch (err) {
      if (attempt >= MIGRATE_TRIES) throw err;
    }
  }
}
