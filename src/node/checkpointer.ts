import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Logger } from "../api/deps.ts";
import { BACKGROUND_THREAD_NICE } from "./nice.ts";

/** How often the thread checkpoints: at ~500 creates/s the WAL gains ~1 000 pages a second. */
export const CHECKPOINT_EVERY_MS = 250;

// Runs in the thread (CommonJS, given the driver's resolved path): a PASSIVE
// checkpoint never waits for a lock and never blocks a reader or a writer;
// one that finds another process checkpointing just does less.
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
// Background work: the threads answering requests get the CPU first (Linux: per thread).
try { require("node:os").setPriority(0, workerData.nice); } catch {}
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const timer = setInterval(() => {
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage(String(err && err.message ? err.message : err));
  }
}, workerData.everyMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints of a local database file on a thread of their own.
 *
 * Why: SQLite checkpoints in the committing connection whenever the WAL
 * passes 1 000 pages (`wal_autocheckpoint`): with the local driver that is
 * this process's one JS thread, stalled while 4 MiB are copied into the
 * database and two fsyncs return — a few ms every ~200 creates, which every
 * request arriving meanwhile waited for (the flood bench's p99). The process's
 * own connections are set to never checkpoint (`openDatabase`); this thread,
 * with its own connection, does it every `everyMs`.
 */
export function startCheckpointer(
  file: string,
  log: Logger,
  everyMs = CHECKPOINT_EVERY_MS,
): { stop: () => Promise<void> } {
  const driver = createRequire(import.meta.url).resolve("libsql");
  const thread = new Worker(THREAD, {
    eval: true,
    workerData: { driver, file, everyMs, nice: BACKGROUND_THREAD_NICE },
  });
  thread.unref();
  let failures = 0;
  thread.on("message", (msg: string) => {
    // Logged once in a while, not at every tick of a database that stays unwritable.
    if (failures++ % 100 === 0) log.warn("WAL checkpoint failed", { err: msg, failures });
  });
  thread.on("error", (err) => log.error("the WAL checkpoint thread stopped", { err: String(err) }));
  const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
  return {
    stop: async () => {
      // Referenced again: an unreferenced thread would let the process end
      // before the thread closed its connection.
      thread.ref();
      thread.postMessage("stop");
      await exited;
    },
  };
}
