import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { type HttpBindings, serve } from "@hono/node-server";
import { getPath } from "hono/utils/url";
import { createApp } from "../api/app.ts";
import { createAuthenticator } from "../api/auth.ts";
import { bodyLimits } from "../api/body.ts";
import { ComposeWaits } from "../api/compose-waits.ts";
import { type Logger, systemClock } from "../api/deps.ts";
import type { Config } from "../config.ts";
import { startEventServices } from "../events/runtime.ts";
import { scheduleSweep } from "../sweep/schedule.ts";
import { createUploadStore } from "../uploads/store.ts";
import { odcsHttpServer } from "./http-errors.ts";
import type { Stoppable } from "./lifecycle.ts";
import { defaultWorkerId, openComposeReader, openDatabase, packageVersion } from "./runtime.ts";
import { mountComposeFiles } from "./static.ts";
import type { WorkerThread } from "./worker-thread.ts";
import {
  inWriteThread,
  readBodyAhead,
  refuseFailedBody,
  takesTurn,
  WRITES_AT_ONCE,
  WriteGate,
  withBodyAhead,
} from "./write-gate.ts";
import { spawnWriteThread, type WriteThread } from "./write-thread.ts";

/**
 * After the grace time the waits are answered (the compose as it is); this
 * long more is left for those answers to be written before the remaining
 * connections are cut.
 */
export const ANSWER_AFTER_GRACE_MS = 1_000;

/**
 * Start the HTTP API (and the compose file server and the expiry sweep);
 * with `worker`, also the worker thread of a single-host process (`npm
 * start`), woken by message when a compose is created. Resolves once the
 * port is bound and the worker takes jobs.
 *
 * `stop(graceMs)`: the listening socket closes at once (new connections are
 * refused), the sweep and the worker stop taking work; requests in flight,
 * waits (`GET …/wait`) and running composes get `graceMs` to finish — a
 * wait still open then is answered with the compose as it is, a running
 * compose is aborted and its job given back to the queue.
 */
export async function startServer(
  config: Config,
  log: Logger,
  opts: {
    /** The compose worker thread of a single-host process (`spawnWorkerThread`), if any. */
    worker?: WorkerThread;
    /** The write thread, spawned early by the process entry (`spawnWriteThread`); else here. */
    writes?: WriteThread;
  },
): Promise<Stoppable & { server: Server }> {
  mkdirSync(config.ODCS_TARGET_DIR, { recursive: true });
  const { db, close: closeDatabase } = await openDatabase(config, log);
  const reader = openComposeReader(config, db);
  const now = () => systemClock.now();
  const waits = new ComposeWaits(db);
  const owner = config.ODCS_WORKER_ID ?? defaultWorkerId();
  const events = await startEventServices({ db, config, log, now, owner });
  const onJobQueued = () => {
    worker?.wake();
    events.wake();
  };
  const onComposeCanceled = (id: number) => worker?.composeCanceled(id);
  const writes = opts.writes ?? spawnWriteThread(config, log);
  writes.onHook = (hook) => {
    if (hook.hook === "queued") onJobQueued();
    else if (hook.hook === "changed") waits.notify(hook.id);
    else if (hook.hook === "canceled") onComposeCanceled(hook.id);
    else events.metrics.observeRequest(hook.method, hook.route, hook.status, hook.seconds);
  };
  const writesOpen = writes.open();
  const worker = opts.worker;
  if (worker)
    worker.onChanged = (id) => {
      waits.notify(id);
      events.wake();
    };
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
    onJobQueued,
    onComposeCanceled,
    uploads: createUploadStore(config.ODCS_UPLOAD_DIR),
    ...(reader
      ? { readCompose: reader.read, readList: reader.list, readListWrites: reader.writes }
      : {}),
  });
  mountComposeFiles(app, config.ODCS_TARGET_DIR, { trustProxy: config.ODCS_TRUST_PROXY });

  const gate = new WriteGate(WRITES_AT_ONCE);
  const inTurn = async (req: Request, env: Parameters<typeof app.fetch>[1]): Promise<Response> => {
    const leave = await gate.enter();
    try {
      return await app.fetch(req, env);
    } finally {
      leave();
    }
  };
  await writesOpen;
  // A write's body is read first, then the API's go to the write thread; the
  // rest (dashboard forms), and a body that must be refused, take a turn here.
  const write = async (req: Request, env: Parameters<typeof app.fetch>[1]) => {
    const { incoming } = env as HttpBindings;
    const ahead = await readBodyAhead(req, bodyLimits(config), incoming);
    const refused = refuseFailedBody(req, ahead);
    if (refused) return refused;
    if (ahead.kind === "read" && inWriteThread(req))
      return writes.fetch(req, ahead.bytes, incoming.rawHeaders);
    return inTurn(req, withBodyAhead(env, ahead));
  };
  let draining = false;
  // While draining, every answer closes its connection, so a keep-alive
  // client cannot hold the process open with new requests.
  const handle = async (req: Request, env: Parameters<typeof app.fetch>[1]) => {
    log.debug("request", { method: req.method, path: getPath(req) });
    const res = takesTurn(req) ? await write(req, env) : await app.fetch(req, env);
    if (draining) res.headers.set("Connection", "close");
    return res;
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: handle,
        createServer: odcsHttpServer(handle, log, {
          headersTimeoutMs: config.ODCS_HEADERS_TIMEOUT_SECONDS * 1000,
        }),
        port: config.PORT,
        hostname: config.HOST,
      },
      (info) => {
        s.off("error", reject);
        log.info("listening", { url: `http://${config.HOST}:${info.port}` });
        process.stdout.write(
          `ODCS listening on http://localhost:${info.port} (API /api/1/, docs /api/1/docs, composes ${config.ODCS_TARGET_DIR_URL})\n`,
        );
        resolve(s as Server);
      },
    );
    s.once("error", reject);
  });
  const sweep = scheduleSweep(
    {
      db,
      now,
      log,
      targetDir: config.ODCS_TARGET_DIR,
      uploadDir: config.ODCS_UPLOAD_DIR,
      uploadAbandonedMs: config.ODCS_UPLOAD_ABANDONED_SECONDS * 1000,
      eventsRetentionDays: config.ODCS_EVENTS_RETENTION_DAYS,
      leaseMs: config.ODCS_WORKER_LEASE_MS,
      observe: events.observeSweep,
    },
    config.ODCS_SWEEP_CRON,
    config.ODCS_JOBS_RETENTION_DAYS,
  );
  await worker?.open();

  const stop = async (graceMs: number) => {
    draining = true;
    sweep.stop();
    // Event streams end now (clients resume with Last-Event-ID); deliveries in flight are aborted.
    events.feed.close();
    const eventsStopped = events.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let graceTimer: NodeJS.Timeout | undefined;
    let cutTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, graceMs);
    });
    void graceOver.then(() => {
      waits.endAll();
      cutTimer = setTimeout(() => server.closeAllConnections(), ANSWER_AFTER_GRACE_MS);
    });
    await Promise.all([worker?.stop(graceMs), closed, eventsStopped]);
    clearTimeout(graceTimer);
    clearTimeout(cutTimer);
    await writes.stop();
    reader?.close();
    await closeDatabase();
  };
  return { server, stop };
}
