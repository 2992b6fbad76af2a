import { Worker } from "node:worker_threads";
import type { Logger } from "../api/deps.ts";

/** How long a thread may take to load its modules and open the database. */
export const THREAD_START_MS = 60_000;
/** Wait before a thread that died is started again (a thread failing at once is not restarted in a loop). */
export const THREAD_RESTART_MS = 1_000;

/** What every thread's side (`*-thread-main.ts`) answers `{ type: "open" }` with. */
export type StartMessage = { type: "ready" } | { type: "failed"; message: string };

export interface HostedThreadOptions<To, From> {
  /** For log lines and errors: "the write thread". */
  name: string;
  /** The thread's module, a `*-thread-main.ts` beside this file (loaded through `thread-boot.mjs`). */
  module: string;
  log: Logger;
  /** Its `workerData` for the n-th start (1, 2, …: a restart may need another worker id). */
  data: (start: number) => object;
  /** Every message but the start handshake. */
  onMessage: (msg: From) => void;
  /** The thread ended (crashed, killed or stopped): what it had in hand is lost. */
  onExit: (err: Error) => void;
  /** The message that makes the thread end itself, giving its work `graceMs`. */
  stopMessage: (graceMs: number) => To;
  /** How long past `graceMs` a stopping thread may take before it is terminated. */
  stopMarginMs: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of threads of every kind
const live = new Set<HostedThread<any, any>>();

/**
 * End every thread of this process, each told to stop with no grace, within
 * `ms`; before the process exits. A thread is better ended by itself than
 * terminated: libsql's native objects, finalized in a thread torn down by
 * `terminate()` (which `process.exit` does to every thread still running),
 * can abort the whole process (a Rust panic, exit 134) instead of exiting
 * with its status.
 */
export async function endThreads(ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all([...live].map((t) => t.stop(0))),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * A worker thread of this process that loads a module of the service, opens
 * it when told (`open`), and is started again `THREAD_RESTART_MS` after it
 * dies — unless it never started (a first start that fails fails the
 * process's start) or it was stopped. The write thread and the compose worker
 * thread of `npm start` are two of these.
 */
export class HostedThread<To extends { type: string }, From extends { type: string }> {
  #worker: Worker | undefined;
  #starts = 0;
  #stopped = false;
  #everStarted = false;
  #exited: Promise<void> = Promise.resolve();
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #opened: Promise<void>;

  /** Start the thread loading its module, at once; `open` lets it open the database. */
  constructor(private readonly o: HostedThreadOptions<To, From>) {
    live.add(this);
    this.#opened = this.#spawn();
    // Awaited by `open`; a failure before that is reported there.
    this.#opened.catch(() => {});
  }

  /** Resolves once the thread is running; rejects if it cannot start. */
  open(): Promise<void> {
    this.#worker?.postMessage({ type: "open" });
    return this.#opened;
  }

  /** Whether a thread is there to take a message (not dead, restarting or stopped). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Hand the thread a message; false when there is no thread to take it. */
  post(msg: To): boolean {
    if (!this.#worker) return false;
    this.#worker.postMessage(msg);
    return true;
  }

  /** End the thread at once, as a crash would; it is started again (tests). */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  /**
   * Tell the thread to stop (it ends itself, giving its work `graceMs`),
   * terminate it if it has not ended `stopMarginMs` later, and start it no
   * more. Told again (a shorter grace), it is told again. Resolves to
   * whether it ended by itself (false: it had to be terminated).
   */
  async stop(graceMs: number): Promise<boolean> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (!worker) return true;
    worker.postMessage(this.o.stopMessage(graceMs));
    let terminated = false;
    const timer = setTimeout(() => {
      terminated = true;
      this.o.log.warn(`${this.o.name} did not end by itself; terminating it`);
      void worker.terminate();
    }, graceMs + this.o.stopMarginMs);
    await this.#exited;
    clearTimeout(timer);
    return !terminated;
  }

  #spawn(): Promise<void> {
    const { name, log } = this.o;
    this.#starts++;
    const worker = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
      workerData: { module: this.o.module, data: this.o.data(this.#starts) },
      // The boot file registers tsx itself; the main thread's loader flags
      // (tsx's CLI, or none under bin/) are not what the thread needs.
      execArgv: [],
    });
    this.#worker = worker;
    this.#exited = new Promise((resolve) =>
      worker.once("exit", () => {
        if (this.#stopped) live.delete(this);
        resolve();
      }),
    );
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start in ${THREAD_START_MS / 1000} s`));
        void worker.terminate();
      }, THREAD_START_MS);
      worker.on("message", (msg: From | StartMessage) => {
        if (msg.type === "ready") {
          started = true;
          this.#everStarted = true;
          clearTimeout(timer);
          resolve();
        } else if (msg.type === "failed" && !started) {
          clearTimeout(timer);
          reject(new Error(`${name} could not start: ${(msg as { message: string }).message}`));
        } else this.o.onMessage(msg as From);
      });
      worker.on("error", (err) => log.error(`${name} failed`, { err: err.stack ?? String(err) }));
      worker.once("exit", (code) => {
        clearTimeout(timer);
        if (this.#worker === worker) this.#worker = undefined;
        this.o.onExit(new Error(`${name} exited (code ${code})`));
        if (!started) reject(new Error(`${name} exited while starting (code ${code})`));
        // A first start that fails fails the server's start; a restart that fails is tried again.
        if (this.#stopped || !this.#everStarted) return;
        log.error(`${name} exited; starting it again`, { code, inMs: THREAD_RESTART_MS });
        this.#restartTimer = setTimeout(() => this.#restart(), THREAD_RESTART_MS);
        this.#restartTimer.unref();
      });
    });
  }

  #restart(): void {
    if (this.#stopped) return;
    const started = this.#spawn();
    this.#worker?.postMessage({ type: "open" });
    started.then(
      () => this.o.log.info(`${this.o.name} is running again`),
      (err: Error) => this.o.log.error(`${this.o.name} did not start again`, { err: err.message }),
    );
  }
}
