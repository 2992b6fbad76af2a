/** The messages between the main thread and the compose worker thread (`worker-thread.ts`). */
import type { Config } from "../config.ts";

/** What the thread is started with. */
export interface WorkerThreadData {
  config: Config;
  /** The worker id its jobs are locked by; each start of the thread has its own. */
  workerId: string;
  /** The crash point armed in the main thread (tests), armed in the thread too. */
  crashAt: string | undefined;
}

export type ToWorkerThread =
  | { type: "open" }
  /** A job was queued: look for work now rather than at the next poll. */
  | { type: "wake" }
  /** A compose was cancelled in this process: stop its job now. */
  | { type: "canceled"; id: number }
  /** Claim nothing more, let running composes finish within `graceMs`, then end. */
  | { type: "stop"; graceMs: number };

export type FromWorkerThread =
  | { type: "ready" }
  | { type: "failed"; message: string }
  /** A compose's state changed (waits and event deliveries in the main thread look). */
  | { type: "changed"; id: number };
