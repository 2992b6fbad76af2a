import type { Logger } from "../api/deps.ts";
import { errorBody } from "../api/errors.ts";
import type { Config } from "../config.ts";
import { armedCrashPoint } from "../crash-points.ts";
import { packageVersion } from "./runtime.ts";
import { HostedThread, THREAD_RESTART_MS } from "./thread-host.ts";
import type { FromThread, Hook, ToThread, WriteThreadData } from "./write-thread-protocol.ts";

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
 * process's), with its own heap. Its lower priority (`BACKGROUND_THREAD_NICE`)
 * lets a GET take the CPU from it when both want a core.
 *
 * A thread that dies fails its requests in flight with a 503 and is started
 * again after `THREAD_RESTART_MS`; until then writes get a 503.
 */
export class WriteThread {
  readonly #thread: HostedThread<ToThread, FromThread>;
  #pending = new Map<number, { resolve: (res: Response) => void; reject: (err: Error) => void }>();
  #nextId = 0;

  /** Where the thread's hooks go (`startServer` sets it before requests come). */
  onHook: (hook: Hook) => void = () => {};

  private constructor(data: WriteThreadData, log: Logger) {
    this.#thread = new HostedThread({
      name: "the write thread",
      module: "./write-thread-main.ts",
      log,
      data: () => data,
      onMessage: (msg) => this.#onMessage(msg),
      onExit: (err) => this.#failPending(err),
      stopMessage: () => ({ type: "stop" }),
      stopMarginMs: STOP_MS,
    });
  }

  /**
   * Start the thread loading the app, at once (beside the main thread's own
   * loading: each takes about a second); `open` then lets it open the
   * database, which must be migrated by then.
   */
  static spawn(opts: { data: WriteThreadData; log: Logger }): WriteThread {
    return new WriteThread(opts.data, opts.log);
  }

  /** `spawn` then `open`. */
  static async start(opts: {
    data: WriteThreadData;
    onHook?: (hook: Hook) => void;
    log: Logger;
  }): Promise<WriteThread> {
    const thread = WriteThread.spawn(opts);
    if (opts.onHook) thread.onHook = opts.onHook;
    await thread.open();
    return thread;
  }

  /** Resolves once the thread's app can answer; rejects if it cannot start. */
  open(): Promise<void> {
    return this.#thread.open();
  }

  /** Requests handed over and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Answer `req` (its body already read: `body`; Node's `rawHeaders`, if
   * given, are its headers without building a Headers) in the thread. A failure to
   * answer at all (the thread died, is restarting or stopped) is a 503 in
   * the ODCS shape.
   */
  async fetch(req: Request, body: Uint8Array | null, rawHeaders?: string[]): Promise<Response> {
    if (!this.#thread.running)
      return unavailable(
        this.#thread.stopped ? "The server is stopping" : "The write thread is restarting",
      );
    const id = this.#nextId++;
    const answered = new Promise<Response>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject }),
    );
    this.#thread.post({
      type: "request",
      id,
      method: req.method,
      url: req.url,
      headers: rawHeaders ? pairs(rawHeaders) : [...req.headers],
      body,
    });
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
  kill(): Promise<void> {
    return this.#thread.kill();
  }

  /** End the thread (its database client closed); requests still in it fail. */
  stop(): Promise<boolean> {
    return this.#thread.stop(0);
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
        // A Uint8Array body and plain headers: what @hono/node-server writes
        // out directly, without a WHATWG Response behind it.
        new Response(NULL_BODY_STATUS.has(msg.status) ? null : new Uint8Array(msg.body), {
          status: msg.status,
          headers: plainHeaders(msg.headers),
        }),
      );
  }

  #failPending(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

/** `[name, value, name, value, …]` as pairs. */
function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** Headers as an object, or as the pairs where a name repeats (Set-Cookie). */
function plainHeaders(headers: [string, string][]): Record<string, string> | [string, string][] {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of headers) {
    if (Object.hasOwn(out, name)) return headers;
    out[name] = value;
  }
  return out;
}

/**
 * The write thread of a server process with `config`, spawned: it loads the
 * app meanwhile; `startServer` opens it once the database is migrated. A
 * process entry calls this before it loads `start-server.ts`, so the two
 * threads load the app side by side.
 */
export function spawnWriteThread(config: Config, log: Logger): WriteThread {
  return WriteThread.spawn({
    data: { config, version: packageVersion(), crashAt: armedCrashPoint() },
    log,
  });
}

function unavailable(message: string): Response {
  return Response.json(errorBody(503, message), {
    status: 503,
    headers: { "Retry-After": String(Math.ceil(THREAD_RESTART_MS / 1000)) },
  });
}
