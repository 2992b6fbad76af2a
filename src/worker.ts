import { createWorkerMetrics, serveMetrics } from "./metrics/worker-metrics.ts";
import { configFromProcess, createLogger, defaultWorkerId, openDatabase } from "./node/runtime.ts";
import { Worker } from "./worker/loop.ts";

/** The `odcs-worker` process: polls the jobs table and generates composes. */
const config = configFromProcess();
const log = createLogger(config.ODCS_LOG_LEVEL, "worker");
const { client, db } = await openDatabase(config);
const worker = new Worker({
  db,
  config,
  now: () => new Date(),
  log,
  workerId: process.env.ODCS_WORKER_ID ?? defaultWorkerId(),
});
worker.start();
const metricsServer =
  config.ODCS_WORKER_METRICS_PORT === undefined
    ? undefined
    : await serveMetrics(
        createWorkerMetrics({
          db,
          busy: () => worker.busy,
          concurrency: config.ODCS_WORKER_CONCURRENCY,
        }),
        config.ODCS_WORKER_METRICS_PORT,
        config.HOST,
      );
log.info("worker started", {
  concurrency: config.ODCS_WORKER_CONCURRENCY,
  pollMs: config.ODCS_WORKER_POLL_MS,
});

const GRACE_MS = Number(process.env.ODCS_WORKER_GRACE_MS ?? 30_000);
let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1); // second signal: leave the lease to expire
  stopping = true;
  log.info("stopping: no new jobs; finishing or releasing the running ones");
  await worker.stop(GRACE_MS);
  metricsServer?.close();
  client.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
