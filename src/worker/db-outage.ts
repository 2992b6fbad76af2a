import type { Logger } from "../api/deps.ts";
import { storageFailure } from "../api/errors.ts";

/** First and largest pause between tries of a write the database could not take. */
export const STORED_RETRY_FIRST_MS = 100;
export const STORED_RETRY_MAX_MS = 2000;

/**
 * Whether `err` says the database cannot take writes now (its disk full,
 * locked past the busy timeout, an I/O error): not the compose's fault, and
 * over once space or the lock comes back.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return storageFailure(err) !== undefined;
}

/** Whether `err` (or an error it wraps) says the database's disk is full (SQLITE_FULL). */
export function isDatabaseFull(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "SQLITE_FULL" || /database or disk is full/i.test(e.message)) return true;
  }
  return false;
}

/**
 * Run `write` (one fenced statement or transaction of the worker's: a job's
 * outcome, its retry, its release) until the database takes it. While it
 * answers a storage failure (SQLITE_FULL when the WAL cannot grow, BUSY,
 * IOERR) the write is tried again with a capped backoff: the outcome of a
 * compose whose tree may already be published must not be dropped, and
 * writing it late is safe because every such write is fenced by the job's
 * lease (a worker whose job was requeued meanwhile gets `false`, never a
 * second completion). Any other error is thrown at once; so is the
 * storage failure once `halt` is aborted (shutdown past its grace), leaving
 * the job to be requeued when its lease runs out.
 */
export async function untilStored<T>(
  write: () => Promise<T>,
  opts: { halt: AbortSignal; log: Logger; what: string },
): Promise<T> {
  let pause = STORED_RETRY_FIRST_MS;
  let failures = 0;
  for (;;) {
    try {
      const result = await write();
      if (failures > 0)
        opts.log.info("database writable again", { what: opts.what, tries: failures + 1 });
      return result;
    } catch (err) {
      const why = storageFailure(err);
      if (why === undefined || opts.halt.aborted) throw err;
      if (failures === 0)
        opts.log.warn("database cannot take a write; trying again until it can", {
          what: opts.what,
          err: why,
        });
      failures++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pause);
        function done() {
          clearTimeout(timer);
          opts.halt.removeEventListener("abort", done);
          resolve();
        }
        opts.halt.addEventListener("abort", done, { once: true });
      });
      pause = Math.min(pause * 2, STORED_RETRY_MAX_MS);
    }
  }
}
