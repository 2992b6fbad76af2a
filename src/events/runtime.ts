import type { Logger } from "../api/deps.ts";
import { EventFeed } from "../api/event-feed.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { EventMetrics } from "../metrics/event-metrics.ts";
import { ServerMetrics } from "../metrics/registry.ts";
import type { SweepRun } from "../sweep/expire.ts";
import { startEventConsumers } from "./index.ts";

/**
 * Everything a server process runs over the events table: the durable
 * consumers (AMQP, webhooks), the feed that wakes SSE streams, and the
 * metrics. `wake()` after a state change committed in this process makes
 * delivery start at once instead of at the next poll.
 */
export async function startEventServices(deps: {
  db: Db;
  config: Config;
  log: Logger;
  now: () => Date;
  owner: string;
}) {
  const { db, config, log } = deps;
  const feed = new EventFeed(db, config.ODCS_EVENTS_POLL_MS);
  const metrics = new ServerMetrics(db, deps.now);
  const eventMetrics = new EventMetrics(db, metrics, { pollMs: config.ODCS_EVENTS_POLL_MS, log });
  await eventMetrics.start();
  const consumers = await startEventConsumers(deps);
  return {
    feed,
    metrics,
    wake() {
      feed.notify();
      consumers.wake();
    },
    observeSweep(run: SweepRun) {
      metrics.sweepRuns.inc({ outcome: run.ok ? "ok" : "error" });
      metrics.sweepRemovals.inc(run.removed);
      metrics.eventsPruned.inc(run.eventsPruned);
    },
    async stop() {
      await Promise.all([consumers.stop(), eventMetrics.stop()]);
    },
  };
}
