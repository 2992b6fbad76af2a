import { createServer, type Server } from "node:http";
import { count, eq } from "drizzle-orm";
import client from "prom-client";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";

/**
 * The metrics of a worker started alone (`odcs-worker`): its own jobs
 * running and concurrency, the shared queue depth, and the Node process
 * metrics, served as Prometheus text at `/metrics` on `port`.
 */
export function createWorkerMetrics(opts: { db: Db; busy: () => number; concurrency: number }) {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry });
  new client.Gauge({
    name: "odcs_worker_jobs_running",
    help: "Jobs this worker is running now",
    registers,
    collect() {
      this.set(opts.busy());
    },
  });
  new client.Gauge({
    name: "odcs_worker_concurrency",
    help: "Jobs this worker runs at once at most (ODCS_WORKER_CONCURRENCY)",
    registers,
    collect() {
      this.set(opts.concurrency);
    },
  });
  new client.Gauge({
    name: "odcs_queue_depth",
    help: "Jobs in the queue by state (queued: waiting for a worker; running: claimed)",
    labelNames: ["state"],
    registers,
    async collect() {
      const rows = await opts.db
        .select({ state: jobs.state, n: count() })
        .from(jobs)
        .where(eq(jobs.state, "queued"))
        .groupBy(jobs.state);
      const running = await opts.db
        .select({ n: count() })
        .from(jobs)
        .where(eq(jobs.state, "running"));
      this.set({ state: "queued" }, rows[0]?.n ?? 0);
      this.set({ state: "running" }, running[0]?.n ?? 0);
    },
  });
  return registry;
}

/** Serve `registry` at GET /metrics (and /) on `port`, all interfaces unless `host` is given. */
export async function serveMetrics(
  registry: client.Registry,
  port: number,
  host = "0.0.0.0",
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" || (path !== "/metrics" && path !== "/")) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text))
      .catch((err) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
