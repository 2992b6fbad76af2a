import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { ListReader } from "../db/compose-list.ts";
import type { ComposeReader } from "../db/compose-reader.ts";
import type { Authenticator } from "../domain/identity.ts";
import type { UploadStore } from "../domain/uploads.ts";
import type { ComposeWaits } from "./compose-waits.ts";
import type { EventFeed } from "./event-feed.ts";
import type { MetricsSource } from "./metrics.ts";

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Everything the API needs, injected so tests and the edge build their own. */
export interface Deps {
  db: Db;
  clock: Clock;
  config: Config;
  log: Logger;
  auth: Authenticator;
  /**
   * Waiting requests of GET …/{id}/wait; one per process, shared with a worker
   * in the same process so its state changes wake them at once. Absent: the
   * app makes its own, which learns of changes by polling.
   */
  waits?: ComposeWaits;
  /** Called after a job was committed, so a worker in the same process starts at once. */
  onJobQueued?: () => void;
  /**
   * Called after a DELETE committed the cancel of a waiting or generating
   * compose, so a worker in the same process building it aborts at once
   * rather than at its next ODCS_WORKER_CANCEL_CHECK_MS.
   */
  onComposeCanceled?: (composeId: number) => void;
  /** Wakes the SSE streams; one per process. Absent: the app makes its own (polling). */
  eventFeed?: EventFeed;
  /** Prometheus metrics (Node entry); absent: /api/1/metrics/ answers 503. */
  metrics?: MetricsSource;
  /** Package version reported by /api/1/about/. */
  version: string;
  /**
   * Synchronous single-compose lookup on a local file (db/compose-reader.ts),
   * for GET …/{id}; absent: that reads through `db`.
   */
  readCompose?: ComposeReader;
  /** Likewise for the list page (db/compose-list.ts `createListReader`). */
  readList?: ListReader;
  /** Where POST /api/1/uploads/ streams RPMs (src/uploads/store.ts); absent: uploads answer 503. */
  uploads?: UploadStore;
  /**
   * The number of writes ever made to `composes` (db/compose-list.ts
   * `createWritesReader`), on the same connection as `readList`: list pages
   * are kept while it stays (api/list-cache.ts). Absent: nothing is kept.
   */
  readListWrites?: () => number;
}
