import { mkdirSync } from "node:fs";
import { serve } from "@hono/node-server";
import { createApp } from "./api/app.ts";
import { createAuthenticator } from "./api/auth.ts";
import { ComposeWaits } from "./api/compose-waits.ts";
import { systemClock } from "./api/deps.ts";
import type { Config } from "./config.ts";
import { startEventServices } from "./events/runtime.ts";
import {
  configFromProcess,
  createLogger,
  defaultWorkerId,
  openDatabase,
  packageVersion,
} from "./node/runtime.ts";
import { mountComposeFiles } from "./node/static.ts";
import { scheduleSweep } from "./sweep/schedule.ts";
import { Worker } from "./worker/loop.ts";

/** Grace period for a running compose at shutdown before it is aborted and requeued. */
export const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Start the HTTP API (and the compose file server and the expiry sweep);
 * with `withWorker`, also a worker in the same process, woken directly when
 * a compose is created (single-host mode, `npm start`).
 */
export async function startServer(config: Config, opts: { withWorker: boolean }) {
  const log = createLogger(config.ODCS_LOG_LEVEL, "server");
  mkdirSync(config.ODCS_TARGET_DIR, { recursive: true });
  const { db, client } = await openDatabase(config);
  const now = () => systemClock.now();
  const waits = new ComposeWaits(db);
  const events = await startEventServices({ db, config, log, now, owner: defaultWorkerId() });
  const worker = opts.withWorker
    ? new Worker({
        db,
        config,
        now,
        log: createLogger(config.ODCS_LOG_LEVEL, "worker"),
        workerId: defaultWorkerId(),
        onComposeChanged: (id) => {
          waits.notify(id);
          events.wake();
        },
      })
    : null;
  const app = createApp({
    db,
    clock: systemClock,
    config,
    log,
    auth: createAuthenticator(config),
    version: packageVersion(),
    waits,
    eventFeed: events.feed,
    metrics: events.metrics,
    onJobQueued: () => {
      worker?.wake();
      events.wake();
    },
  });
  mountComposeFiles(app, config.ODCS_TARGET_DIR);
  const sweep = scheduleSweep(
    {
      db,
      now,
      log,
      targetDir: config.ODCS_TARGET_DIR,
      eventsRetentionDays: config.ODCS_EVENTS_RETENTION_DAYS,
      observe: events.observeSweep,
    },
    config.ODCS_SWEEP_CRON,
  );
  worker?.start();
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    log.info("listening", { url: `http://${config.HOST}:${info.port}` });
    process.stdout.write(
      `ODCS listening on http://localhost:${info.port} (API /api/1/, docs /api/1/docs, composes ${config.ODCS_TARGET_DIR_URL})\n`,
    );
  });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    sweep.stop();
    server.close();
    await worker?.stop(SHUTDOWN_GRACE_MS);
    await events.stop();
    client.close();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  return { app, server, worker };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await startServer(configFromProcess(), { withWorker: false });
}
