import { Worker } from "node:worker_threads";
import {
  makeDirsSync,
  type PlaceRequest,
  type PlaceResult,
  placeFilesSync,
} from "./place-files.ts";

/** What the thread is asked to do; it runs jobs one at a time, in the order posted. */
export type PlacerJob =
  | { kind: "place"; requests: PlaceRequest[]; allowedRoots: readonly string[] }
  | { kind: "mkdir"; dirs: string[]; clear?: string };

function runInline(job: PlacerJob): PlaceResult[] {
  if (job.kind === "place") return placeFilesSync(job.requests, job.allowedRoots);
  makeDirsSync(job.dirs, job.clear);
  return [];
}

/**
 * The thread runs TypeScript like the rest of the service: it registers tsx
 * itself (loader hooks of the main thread do not reach a worker thread on
 * Node 20), then imports its entry module.
 */
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

type Reply = { id: number; results: PlaceResult[] } | { id: number; error: string };

/**
 * Runs placeFilesSync and makeDirsSync on a thread of its own, one message
 * per batch. A
 * compose's hundreds of link(2) calls then neither block the event loop (the
 * API of a single-host process, the repodata being serialised meanwhile) nor
 * pay a libuv hand-off each: through fs.promises, placing 313 RPMs took
 * 20–60 ms on a busy 2-core host, and synchronously on the main thread ~5 ms
 * during which nothing else ran. Started on first use (or `warm`), idle it
 * does not keep the process alive. Without a thread (it failed to start),
 * the same function runs inline.
 */
export class FilePlacer {
  #thread: Worker | undefined;
  #broken = false;
  #next = 1;
  readonly #pending = new Map<
    number,
    { job: PlacerJob; resolve: (r: PlaceResult[]) => void; reject: (e: Error) => void }
  >();

  /** Place `requests` (in order); one result per request, failures included. */
  place(requests: PlaceRequest[], allowedRoots: readonly string[]): Promise<PlaceResult[]> {
    return this.#run({ kind: "place", requests, allowedRoots });
  }

  /**
   * Create `dirs` with their parents, in order, after removing the tree
   * `clear` if given: a chain of system calls with no turn of the event loop
   * between them, which a busy main thread would otherwise delay.
   */
  async makeDirs(dirs: string[], clear?: string): Promise<void> {
    await this.#run({ kind: "mkdir", dirs, ...(clear === undefined ? {} : { clear }) });
  }

  #run(job: PlacerJob): Promise<PlaceResult[]> {
    const thread = this.#start();
    if (!thread) {
      try {
        return Promise.resolve(runInline(job));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) thread.ref();
      this.#pending.set(id, { job, resolve, reject });
      thread.postMessage({ id, ...job });
    });
  }

  /** Start the thread now, so the first compose does not wait for it. */
  warm(): void {
    this.#start();
  }

  /**
   * End the thread (batches in it fail); the next call starts another. A
   * worker thread (`npm start`'s) must: idle, this thread holds its parent
   * thread's event loop open, though not a process's.
   */
  async stop(): Promise<void> {
    await this.#thread?.terminate();
  }

  #start(): Worker | undefined {
    if (this.#thread || this.#broken) return this.#thread;
    let thread: Worker;
    try {
      thread = new Worker(BOOTSTRAP, {
        eval: true,
        workerData: {
          tsx: import.meta.resolve("tsx/esm/api"),
          entry: new URL("./place-thread.ts", import.meta.url).href,
        },
      });
    } catch {
      this.#broken = true;
      return undefined;
    }
    thread.unref();
    let answered = false;
    thread.on("message", (reply: Reply) => {
      answered = true;
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) thread.unref();
      if ("error" in reply) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.results);
    });
    // A thread that never answered could not start (here, for good): its
    // batches, untouched, are placed inline from now on. One that dies later
    // fails its batches (the compose is retried) and the next call starts anew.
    const lost = (why: string) => {
      if (this.#thread === thread) this.#thread = undefined;
      if (!answered) this.#broken = true;
      for (const w of this.#pending.values()) {
        if (answered) w.reject(new Error(`placement thread ${why}`));
        else {
          try {
            w.resolve(runInline(w.job));
          } catch (err) {
            w.reject(err as Error);
          }
        }
      }
      this.#pending.clear();
    };
    thread.on("error", (err) => lost(`failed: ${err.message}`));
    thread.on("exit", (code) => lost(`exited with ${code}`));
    this.#thread = thread;
    return thread;
  }
}

let shared: FilePlacer | undefined;

/** The process's placement thread (one is enough: link(2) is the kernel's work, not the CPU's). */
export function sharedFilePlacer(): FilePlacer {
  shared ??= new FilePlacer();
  return shared;
}
