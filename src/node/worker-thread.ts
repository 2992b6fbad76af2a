import type { Logger } from "../api/deps.ts";
import type { Config } from "../config.ts";
import { armedCrashPoint } from "../crash-points.ts";
import { defaultWorkerId } from "./runtime.ts";
import { HostedThread } from "./thread-host.ts";
import type {
  FromWorkerThread,
  ToWorkerThread,
  WorkerThreadData,
} from "./worker-thread-protocol.ts";

/** How long past its grace a stopping thread may take to close its database before it is terminated. */
const STOP_MARGIN_MS = 5_000;

/**
 * The compose worker of `npm start` (single host) on a thread of its own, at
 * a lower priority; the main thread answers the API.
 *
 * Why: a worker on the API's thread stalled every request while it worked —
 * a depsolve, repodata written in-process, and above all its database writes,
 * which wait for SQLite's write lock on the thread that makes them (the write
 * thread's creates hold it, `write-thread.ts`). With composes being taken
 * while a flood of them came in, GET p99 was ~15× idle
 * (`FLOOD_ENTRY=src/main.ts npm run bench -- flood`). Here the worker has
 * its own event loop, database client and heap; it hears of a new job
 * (`wake`) and a cancel (`composeCanceled`) by message, and tells the main
 * thread of each compose it changed (`onChanged`: waits, event delivery).
 *
 * A thread that dies is started again after `THREAD_RESTART_MS` with a new
 * worker id (the jobs it held come back to the queue when their leases run
 * out, as a dead worker process's do).
 */
export class WorkerThread {
  readonly #thread: HostedThread<ToWorkerThread, FromWorkerThread>;

  /** Where the thread's "compose changed" goes (`startServer` sets it). */
  onChanged: (id: number) => void = () => {};

  private constructor(data: (start: number) => WorkerThreadData, log: Logger) {
    this.#thread = new HostedThread({
      name: "the worker thread",
      module: "./worker-thread-main.ts",
      log,
      data,
      onMessage: (msg) => {
        if (msg.type === "changed") this.onChanged(msg.id);
      },
      onExit: () => {},
      stopMessage: (graceMs) => ({ type: "stop", graceMs }),
      stopMarginMs: STOP_MARGIN_MS,
    });
  }

  /** Start the thread loading the worker, at once; `open` starts it taking jobs. */
  static spawn(opts: {
    config: Config;
    log: Logger;
    workerId?: string;
    crashAt?: string | undefined;
  }): WorkerThread {
    const id = opts.workerId ?? opts.config.ODCS_WORKER_ID ?? defaultWorkerId();
    return new WorkerThread(
      (start) => ({
        config: opts.config,
        workerId: start === 1 ? id : `${id}#${start}`,
        crashAt: opts.crashAt,
      }),
      opts.log,
    );
  }

  /** Resolves once the worker takes jobs; rejects if it cannot start. */
  open(): Promise<void> {
    return this.#thread.open();
  }

  /** A job was queued. */
  wake(): void {
    this.#thread.post({ type: "wake" });
  }

  /** A compose was cancelled in this process. */
  composeCanceled(id: number): void {
    this.#thread.post({ type: "canceled", id });
  }

  /** End the thread at once, as a crash would; it is started again (tests). */
  kill(): Promise<void> {
    return this.#thread.kill();
  }

  /**
   * Claim nothing more; running composes get `graceMs` to finish, then are
   * aborted and their jobs given back; then the thread ends. Resolves to
   * whether it ended by itself (false: terminated, `STOP_MARGIN_MS` late).
   */
  stop(graceMs: number): Promise<boolean> {
    return this.#thread.stop(graceMs);
  }
}

/**
 * The worker thread of a single-host process with `config`, spawned: it
 * loads the worker meanwhile; `startServer` opens it once the database is
 * migrated.
 */
export function spawnWorkerThread(config: Config, log: Logger): WorkerThread {
  return WorkerThread.spawn({ config, log, crashAt: armedCrashPoint() });
}
