import { mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Client, createClient } from "@libsql/client";
import Database from "libsql";
import type { Logger } from "../api/deps.ts";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { createCrashHooks } from "../crash-points.ts";
import {
  BUSY_TIMEOUT_MS,
  configureLocalConnections,
  createDb,
  type Db,
  LOCAL_CONNECTIONS,
  onEveryConnection,
  setAfterWrite,
  setWriteFault,
} from "../db/client.ts";
import { createListReader, createWritesReader, type ListReader } from "../db/compose-list.ts";
import { type ComposeReader, createComposeReader } from "../db/compose-reader.ts";
import { migrateDatabase } from "../db/migrate.ts";
import { startCheckpointer } from "./checkpointer.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const MIGRATIONS_DIR = join(ROOT, "migrations");

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string })
    .version;
}

/**
 * Config from the process: env, plus the JSON file named by ODCS_CONFIG.
 * On a bad setting, print one line per problem and exit 2.
 */
export function configFromProcess(): Config {
  try {
    const path = process.env.ODCS_CONFIG;
    let file: Record<string, unknown> | undefined;
    if (path) {
      try {
        file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      } catch (err) {
        throw new ConfigError(
          `invalid setting ODCS_CONFIG: cannot read ${path} as JSON: ${(err as Error).message}`,
        );
      }
    }
    const config = loadConfig(process.env, file);
    return Object.freeze({ ...config, ODCS_TARGET_DIR: resolve(config.ODCS_TARGET_DIR) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`odcs: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Open (creating the directory of a local file) and migrate the database.
 * A local file's WAL is checkpointed by a thread of this process
 * (`checkpointer.ts`), never by a commit on the JS thread; `close` stops
 * that thread and closes the client.
 */
export async function openDatabase(
  config: Config,
  log: Logger,
): Promise<{ db: Db; client: Client; close: () => Promise<void> }> {
  const url = config.ODCS_DATABASE_URL;
  if (url.startsWith("file:"))
    mkdirSync(dirname(resolve(url.slice("file:".length))), { recursive: true });
  const client = newClient(config);
  await migrateDatabase(client, MIGRATIONS_DIR);
  const { db, close } = await connectDatabase(config, client);
  const checkpointer = url.startsWith("file:")
    ? startCheckpointer(url.slice("file:".length), log)
    : undefined;
  return {
    db,
    client,
    close: async () => {
      await checkpointer?.stop();
      close();
    },
  };
}

function newClient(config: Config): Client {
  const url = config.ODCS_DATABASE_URL;
  return createClient({
    url,
    ...(config.ODCS_DATABASE_AUTH_TOKEN ? { authToken: config.ODCS_DATABASE_AUTH_TOKEN } : {}),
    timeout: BUSY_TIMEOUT_MS,
    // Every connection of a local file gets its settings (configureLocalConnections).
    ...(url.startsWith("file:") ? { concurrency: LOCAL_CONNECTIONS } : {}),
  });
}

/**
 * A client of a database `openDatabase` already migrated, for another
 * thread of the process (`write-thread.ts`), or that client's own settings
 * given `client`: no commit of a local file checkpoints the WAL (the
 * checkpointer thread does), and an armed create crash point
 * (`ODCS_TEST_CRASH_AT=post:…`) hooks its writes.
 */
export async function connectDatabase(
  config: Config,
  client: Client = newClient(config),
): Promise<{ db: Db; client: Client; close: () => void }> {
  await configureLocalConnections(client);
  await onEveryConnection(client, "PRAGMA wal_autocheckpoint = 0");
  const db = createDb(client);
  const crash = createCrashHooks();
  if (crash) {
    setWriteFault(db, crash.fault);
    setAfterWrite(db, crash.afterWrite);
  }
  return { db, client, close: () => client.close() };
}

/**
 * Synchronous readers of single composes (GET …/{id}) and list pages on their own
 * connection, for a local-file database (after `openDatabase` migrated it);
 * `undefined` for a remote one, which reads through the client.
 */
export function openComposeReader(
  config: Config,
  db: Db,
): { read: ComposeReader; list: ListReader; writes: () => number; close: () => void } | undefined {
  const url = config.ODCS_DATABASE_URL;
  if (!url.startsWith("file:")) return undefined;
  const sync = new Database(url.slice("file:".length));
  sync.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Reads map the file instead of copying each page through read(2): a list
  // page that sorts a few thousand matches reads each of their rows (~40 %
  // less CPU at a million composes). Address space only; the OS shares the
  // pages with its file cache. 32 MiB of page cache for the indexes' hot pages.
  sync.exec("PRAGMA mmap_size = 1073741824");
  sync.exec("PRAGMA cache_size = -32768");
  return {
    read: createComposeReader(sync),
    list: createListReader(sync, db),
    writes: createWritesReader(sync),
    close: () => sync.close(),
  };
}

const LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * JSON lines on stderr, one per event; `write` puts a line there (a worker
 * thread's `process.stderr` goes through the main thread, later).
 */
export function createLogger(
  level: Config["ODCS_LOG_LEVEL"],
  component: string,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const min = LEVELS.indexOf(level);
  const emit = (l: (typeof LEVELS)[number]) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(l) < min) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level: l, component, msg, ...fields })}\n`,
    );
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const defaultWorkerId = () => `${hostname()}:${process.pid}`;
