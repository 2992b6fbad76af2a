/**
 * The compose worker thread's side (`worker-thread.ts` explains why there is
 * one): a `Worker` of `npm start`'s process on a database client of its own.
 */
import { sharedFilePlacer } from "../sources/place/file-placer.ts";
import { Worker } from "../worker/loop.ts";
import { armCrashPointFromEnv } from "./lifecycle.ts";
import { connectDatabase } from "./runtime.ts";
import { lowerThreadPriority, startOnOpen, threadLogger, threadStart } from "./thread-side.ts";
import type {
  FromWorkerThread,
  ToWorkerThread,
  WorkerThreadData,
} from "./worker-thread-protocol.ts";

const { port, data } = threadStart<WorkerThreadData>("worker-thread-main.ts");
const { config, workerId, crashAt } = data;
const post = (msg: FromWorkerThread) => port.postMessage(msg);
const log = threadLogger(config, "worker");

async function start(): Promise<{ worker: Worker; close: () => void }> {
  lowerThreadPriority(log, "worker thread");
  const { db, close } = await connectDatabase(config);
  // Armed after the client is made: the create crash points hook the API's
  // writes, not the worker's.
  armCrashPointFromEnv(crashAt, log);
  const worker = new Worker({
    db,
    config,
    now: () => new Date(),
    log,
    workerId,
    onComposeChanged: (id) => post({ type: "changed", id }),
  });
  worker.start();
  return { worker, close };
}

let closed = false;
const opening = startOnOpen(port, start);
const whenStarted = (then: (s: Awaited<ReturnType<typeof start>>) => unknown) =>
  void opening.started().then((s) => s && then(s));

port.on("message", (msg: ToWorkerThread) => {
  if (msg.type === "open") opening.open();
  else if (msg.type === "wake") whenStarted((s) => s.worker.wake());
  else if (msg.type === "canceled") whenStarted((s) => s.worker.composeCanceled(msg.id));
  else
    void opening.started().then(async (s) => {
      // A second stop (a shorter grace) cuts the first one's short.
      await s?.worker.stop(msg.graceMs);
      if (closed) return;
      closed = true;
      await sharedFilePlacer().stop();
      s?.close();
      port.close();
    });
});
