import type { Client } from "@libsql/client";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "./schema.ts";
import { type AfterWrite, type LanedClient, type WriteFault, withWriteLane } from "./write-lane.ts";

export type Db = LibSQLDatabase<typeof schema>;
/** A transaction handle; query functions accept a Db or a Tx. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** Busy timeout for local files: several processes share one database. */
export const BUSY_TIMEOUT_MS = 15_000;

/**
 * Wrap a libSQL client (node: `@libsql/client`, edge: `@libsql/client/web`).
 * Every write of a local file goes through the process's write lane
 * (`write-lane.ts`), so no write of this process waits on a lock that
 * another of its connections holds; any number of `createDb` calls, on any
 * number of clients, share it.
 */
// drizzle's `libsql/web` entry, not `libsql`: that one imports `@libsql/client`
// itself, which Deno resolves to the native driver; given a client, both only wrap it.
export function createDb(client: Client): Db {
  const laned = withWriteLane(client, BUSY_TIMEOUT_MS);
  const db = drizzle(laned, { schema });
  lanedClients.set(db, laned);
  return db;
}
const lanedClients = new WeakMap<Db, LanedClient>();

/**
 * Install (or with `undefined` remove) a fault point called before every
 * write statement of `db`'s client, BEGIN and COMMIT included (tests).
 */
export function setWriteFault(db: Db, fault: WriteFault | undefined): void {
  const laned = lanedClients.get(db);
  if (!laned) throw new Error("setWriteFault: not a database made by createDb");
  laned.fault = fault;
}

/** Install (or remove) a hook called after each write outside a transaction and each COMMIT. */
export function setAfterWrite(db: Db, hook: AfterWrite | undefined): void {
  const laned = lanedClients.get(db);
  if (!laned) throw new Error("setAfterWrite: not a database made by createDb");
  laned.afterWrite = hook;
}

/**
 * Connections a local-file client may open (`createClient({ concurrency })`).
 * A transaction holds one until it settles, and a transaction asking for one
 * while transactions hold all of them fails at once; a single-host process
 * has the API's, the workers' (ODCS_WORKER_CONCURRENCY) and the sweep's.
 */
export const LOCAL_CONNECTIONS = 8;

/**
 * Settings SQLite keeps per connection, applied to every connection of a
 * local-file client. `synchronous = NORMAL` is the WAL setting that skips
 * the fsync at each commit (a crash may lose the last commits, never corrupt
 * the file); left at FULL, each state change of a compose waited for the
 * disk — ~0.5 ms each, much more while other processes write.
 *
 * The client opens its pool lazily and has no hook for a new connection, so
 * all of them are opened here: statements issued in one tick each borrow a
 * connection synchronously, and while one is borrowed the next opens a new
 * one, up to `connections` (which must be the client's `concurrency`). A
 * connection the pool opens later to replace one it dropped (after a failed
 * ROLLBACK) runs with SQLite's default: safe, only slower.
 */
export async function configureLocalConnections(
  client: Client,
  connections = LOCAL_CONNECTIONS,
): Promise<void> {
  await onEveryConnection(client, "PRAGMA synchronous = NORMAL", connections);
}

/**
 * Run a per-connection statement (a PRAGMA) on every connection of a
 * local-file client, as `configureLocalConnections` explains; nothing for a
 * remote one.
 */
export async function onEveryConnection(
  client: Client,
  sql: string,
  connections = LOCAL_CONNECTIONS,
): Promise<void> {
  if (client.protocol !== "file") return;
  await Promise.all(Array.from({ length: connections }, () => client.execute(sql)));
}
