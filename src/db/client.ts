import type { Client } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;
/** A transaction handle; query functions accept a Db or a Tx. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** Wrap a libSQL client (node: `@libsql/client`, edge: `@libsql/client/web`). */
export function createDb(client: Client): Db {
  return drizzle(client, { schema });
}

/** Busy timeout for local files: several processes share one database. */
export const BUSY_TIMEOUT_MS = 15_000;
