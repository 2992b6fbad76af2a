import type { Client } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { configureLocalConnections, createDb } from "./client.ts";

/**
 * Prepare a database for use: WAL for local files (readers never block the
 * writer, several processes can share the file), the per-connection
 * settings on every connection, and every pending migration.
 */
export async function migrateDatabase(client: Client, migrationsFolder: string): Promise<void> {
  if (client.protocol === "file") await client.execute("PRAGMA journal_mode = WAL");
  await configureLocalConnections(client);
  await migrate(createDb(client), { migrationsFolder });
}
