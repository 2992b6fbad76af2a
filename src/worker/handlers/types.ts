import type { Config } from "../../config.ts";
import type { Db } from "../../db/client.ts";
import type { JobRow } from "../../db/schema.ts";
import type { RepodataCache } from "../../sources/repodata-cache.ts";

/**
 * Points of a generate job where a test can hold it (`WorkerOptions.at`):
 * `staged` — the staging tree complete, its log closed, not yet published;
 * `leased` — the lease checked (and extended) right before publishing, nothing moved yet;
 * `published` — the tree moved to its published place (and linked, if no
 *   link was there), `done` not yet committed;
 * `committed` — `done` committed, the job still running;
 * `failed` — a failure for good committed, the job's execution not yet over;
 * `discard-moved` — a cancelled run's log moved to its published tree, not yet
 *   linked or chosen (`discardCanceled`).
 */
export type JobPoint = "staged" | "leased" | "published" | "committed" | "failed" | "discard-moved";

/** What a job handler gets: the claimed job and the worker's shared state. */
export interface JobContext {
  db: Db;
  config: Config;
  now: () => Date;
  workerId: string;
  job: JobRow;
  cache: RepodataCache;
  signal: AbortSignal;
  /** Throws `LeaseLostError` when another worker owns the job now. */
  assertLease: () => Promise<void>;
  /** After each committed state change of the compose (wakes waiting API requests). */
  composeChanged: () => void;
  /**
   * Run a fenced write of the job's outcome until the database takes it
   * (`worker/db-outage.ts`: a full or locked database is waited out, not
   * taken for the compose's failure). Absent (a handler driven by hand in a
   * test): the write is tried once.
   */
  untilStored?: <T>(what: string, write: () => Promise<T>) => Promise<T>;
  /** Test seam (`WorkerOptions.at`). */
  at?: (point: JobPoint) => Promise<void>;
}
