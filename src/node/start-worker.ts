import type { Logger } from "../api/deps.ts";
import type { Config } from "../config.ts";
import { createWorkerMetrics, serveMetrics } from "../metrics/worker-metrics.ts";
import { Worker } from "../worker/loop.ts";
import type { Stoppable } from "./lifecycle.ts";
import { defaultWorkerId, openDatabase } from "./runtime.ts";

/**
 * Start one compose worker (`odcs-worker`): polls the jobs table and
 * generates composes. `stop(graceMs)`: claims nothing more, lets running
 * composes finish within `graceMs`, then aborts them and gives their jobs
 * back to the queue.
 */
export async function startWorker(config: Config, log: Logger): Promise<Stoppable> {
  const { db, close: closeDatabase } = await openDatabase(config, log);
  const worker = new Worker({
    db,
    config,
    now: () => new Date(),
    log,
    workerId: config.ODCS_WORKER_ID ?? defaultWorkerId(),
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
  return {
    stop: async (graceMs) => {
      log.info("stopping: no new jobs; finishing or releasing the running ones");
      await worker.stop(graceMs);
      metricsServer?.close();
      await closeDatabase();
    },
  };
}
