/**
 * What the service's worker threads (`thread-host.ts`) share on their own
 * side: the port to the main thread, their start data, and a logger.
 */
import { writeSync } from "node:fs";
import { setPriority } from "node:os";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { Logger } from "../api/deps.ts";
import type { Config } from "../config.ts";
import { BACKGROUND_THREAD_NICE } from "./nice.ts";
import { createLogger } from "./runtime.ts";

/** The port to the main thread and the data the thread was started with. */
export function threadStart<T>(module: string): { port: MessagePort; data: T } {
  if (!parentPort) throw new Error(`${module} runs as a worker thread only`);
  return { port: parentPort, data: (workerData as { data: T }).data };
}

/**
 * A logger whose lines are written at once, not through the main thread: a
 * crash point's line (tests) must be out before the process stops itself.
 */
export function threadLogger(config: Config, component: string): Logger {
  return createLogger(config.ODCS_LOG_LEVEL, component, (line) => {
    try {
      writeSync(2, line);
    } catch {
      // A full non-blocking pipe (EAGAIN): through the main thread then.
      process.stderr.write(line);
    }
  });
}

/**
 * The thread's start, run once, when the main thread says `open` (the
 * database is migrated by then): "ready" is posted, or "failed" with the
 * reason and the port closed. `started()` is what it made, `undefined`
 * before `open` or after a failure.
 */
export function startOnOpen<T>(
  port: MessagePort,
  start: () => Promise<T>,
): { open: () => void; started: () => Promise<T | undefined>; opened: () => boolean } {
  let started: Promise<T | undefined> | undefined;
  return {
    open: () => {
      started ??= start().then(
        (made) => {
          port.postMessage({ type: "ready" });
          return made;
        },
        (err: unknown) => {
          port.postMessage({
            type: "failed",
            message: err instanceof Error ? err.message : String(err),
          });
          port.close();
          return undefined;
        },
      );
    },
    started: () => started ?? Promise.resolve(undefined),
    opened: () => started !== undefined,
  };
}

/**
 * Lower the calling thread's priority to `BACKGROUND_THREAD_NICE` (per
 * thread on Linux, and inherited by the threads and processes it starts):
 * the main thread's requests win the CPU whenever both want it.
 */
export function lowerThreadPriority(log: Logger, name: string): void {
  try {
    setPriority(0, BACKGROUND_THREAD_NICE);
  } catch (err) {
    log.warn(`could not lower the ${name}'s priority`, { err: String(err) });
  }
}
