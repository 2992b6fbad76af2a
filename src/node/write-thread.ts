import { Worker } from "node:worker_threads";
import type { Logger } from "../api/deps.ts";
import { errorBody } from "../api/errors.ts";
import type { FromThread, Hook, ToThread, WriteThreadData } from "./write-thread-protocol.ts";

/** How long a thread may take to load the app and open the database. */
export const WRITE_THREAD_START_MS = 60_000;
/** Wait before a thread that died is started again (a thread failing at once is not restarted in a loop). */
export const WRITE_THREAD_RESTART_MS = 1_000;
/** How long `stop` lets the thread close its database before it is terminated. */
const STOP_MS = 5_000;

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * The API's writes (create, renew, delete) on a thread of their own, at a
 * lower priority; reads stay on the main thread.
 *
 * Why: a create costs ~2 ms of a thread (validation, the transaction, the
 * answer) and the garbage of every request waiting for one. On the thread
 * that also answers GETs, a flood of creates made a GET wait behind creates
 * and their young-generation collections: p99 5× idle even with one write
 * started per event-loop turn (`write-gate.ts`; `npm run bench -- flood`).
 * Here the main thread only parses the request, reads its body and writes
 * the answer; the app's work runs in the thread, on its own database client
 * (SQLite's locks order it against the process's other writers like another
 * process's), with its own heap. Its lower priority (`WRITE_THREAD_NICE`)
 * lets a GET take the CPU from it when both want a core.
 *
 * A thread that dies fails its requests in flight with a 503 and is started
 * again after `WRITE_THREAD_RESTART_MS`; until then writes get a 503.
 */
export class WriteThread {
  #worker: Worker | undefined;
  #pending = new Map<number, { resolve: (res: Response) => void; reject: (err: Error) => void }>();
  #nextId = 0;
  #stopped = false;
  #everStarted = false;
  #exited: Promise<void> = Promise.resolve();
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly data: WriteThreadData,
    private readonly onHook: (hook: Hook) => void,
    private readonly log: Logger,
  ) {}

  /** Start the thread; resolves once its app can answer, rejects if it cannot start. */
  static async start(opts: {
    data: WriteThreadData;
    onHook: (hook: Hook) => void;
    log: Logger;
  }): Promise<WriteThread> {
    const thread = new WriteThread(opts.data, opts.onHook, opts.log);
    await thread.#spawn();
    return thread;
  }

  /** Requests handed over and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Answer `req` (its body already read: `body`) in the thread. A failure to
   * answer at all (the thread died, is restarting or stopped) is a 503 in
   * the ODCS shape.
   */
  async fetch(req: Request, body: Uint8Array | null): Promise<Response> {
    const worker = this.#worker;
    if (!worker)
      return unavailable(
        this.#stopped ? "The server is stopping" : "The write thread is restarting",
      );
    const id = this.#nextId++;
    const answered = new Promise<Response>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject }),
    );
    const msg: ToThread = {
      type: "request",
      id,
      method: req.method,
      url: req.url,
      headers: [...req.headers],
      body,
    };
    worker.postMessage(msg);
    try {
      return await answered;
    } catch (err) {
      return unavailable(
        `The server's write thread stopped before answering (${(err as Error).message}); ` +
          "the change may have been made: look before you retry",
      );
    }
  }

  /**
   * End the thread at once, as a crash would: its requests fail with a 503
   * and it is started again (tests).
   */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** End the thread (its database client closed); requests still in it fail. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (!worker) return;
    worker.postMessage({ type: "stop" } satisfies ToThread);
    const timer = setTimeout(() => void worker.terminate(), STOP_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  #spawn(): Promise<void> {
    const worker = new Worker(new URL("./write-thread-boot.mjs", import.meta.url), {
      workerData: this.data,
      // The boot file registers tsx itself; the main thread's loader flags
      // (tsx's CLI, or none under bin/) are not what the thread needs.
      execArgv: [],
    });
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => {
        reject(new Error(`the write thread did not start in ${WRITE_THREAD_START_MS / 1000} s`));
        void worker.terminate();
      }, WRITE_THREAD_START_MS);
      worker.on("message", (msg: FromThread) => {
        if (msg.type === "ready") {
          started = true;
          this.#everStarted = true;
          clearTimeout(timer);
          resolve();
        } else if (msg.type === "failed") {
          clearTimeout(timer);
          reject(new Error(`the write thread could not start: ${msg.message}`));
        } else this.#onMessage(msg);
      });
      worker.on("error", (err) =>
        this.log.error("the write thread failed", { err: err.stack ?? String(err) }),
      );
      worker.once("exit", (code) => {
        clearTimeout(timer);
        if (this.#worker === worker) this.#worker = undefined;
        this.#failPending(new Error(`the write thread exited (code ${code})`));
        if (!started) reject(new Error(`the write thread exited while starting (code ${code})`));
        // A first start that fails fails the server's start; a restart that fails is tried again.
        if (this.#stopped || !this.#everStarted) return;
        this.log.error("the write thread exited; starting it again", {
          code,
          inMs: WRITE_THREAD_RESTART_MS,
        });
        this.#restartTimer = setTimeout(() => this.#restart(), WRITE_THREAD_RESTART_MS);
        this.#restartTimer.unref();
      });
    });
  }

  #restart(): void {
    if (this.#stopped) return;
    this.#spawn().then(
      () => this.log.info("the write thread is running again"),
      (err: Error) => this.log.error("the write thread did not start again", { err: err.message }),
    );
  }

  #onMessage(msg: FromThread): void {
    if (msg.type === "hook") {
      const { type: _, ...hook } = msg;
      this.onHook(hook);
      return;
    }
    if (msg.type !== "response" && msg.type !== "response-failed") return;
    const pending = this.#pending.get(msg.id);
    if (!pending) return;
    this.#pending.delete(msg.id);
    if (msg.type === "response-failed") pending.reject(new Error(msg.message));
    else
      pending.resolve(
        new Response(NULL_BODY_STATUS.has(msg.status) ? null : msg.body, {
          status: msg.status,
          headers: msg.headers,
        }),
      );
  }

  #failPending(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

function unavailable(message: string): Response {
  return Response.json(errorBody(503, message), {
    status: 503,
    headers: { "Retry-After": String(Math.ceil(WRITE_THREAD_RESTART_MS / 1000)) },
  });
}
