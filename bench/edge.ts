/**
 * `GET /api/1/composes/<id>` under workerd (the wrangler bundle in
 * Miniflare, with and without the edge cache) and under the Node server
 * (`createApp` on @hono/node-server), all over one Hrana test server: the
 * same remote libSQL path for each. Prints requests/s and latency
 * percentiles. Bounded: BENCH_EDGE_REQUESTS requests (default 3000) per
 * target, BENCH_EDGE_CONCURRENCY at once (default 16).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createClient } from "@libsql/client";
import { Miniflare } from "miniflare";
import { createApp } from "../src/api/app.ts";
import { silentLogger, systemClock } from "../src/api/deps.ts";
import { loadConfig } from "../src/config.ts";
import { createDb } from "../src/db/client.ts";
import { migrateDatabase } from "../src/db/migrate.ts";
import { composes } from "../src/db/schema.ts";
import { noauthAuthenticator } from "../src/domain/identity.ts";
import { startHranaServer } from "../test/helpers/hrana-server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REQUESTS = Number(process.env.BENCH_EDGE_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_EDGE_CONCURRENCY ?? 16);
const SETTINGS = { ODCS_TARGET_DIR_URL: "https://composes.example.com/composes" };

async function load(url: string) {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        const start = performance.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rps: latencies.length / seconds, p50: pct(0.5), p99: pct(0.99) };
}

function report(name: string, r: Awaited<ReturnType<typeof load>>) {
  console.log(
    `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms`,
  );
}

export async function benchEdge() {
  const dir = mkdtempSync(join(tmpdir(), "odcs-bench-edge-"));
  const hrana = await startHranaServer({ path: join(dir, "odcs.db") });
  const client = createClient({ url: hrana.url });
  const cleanups: (() => Promise<unknown> | unknown)[] = [
    () => rmSync(dir, { recursive: true, force: true }),
    () => hrana.close(),
    () => client.close(),
  ];
  try {
    await migrateDatabase(client, join(ROOT, "migrations"));
    const db = createDb(client);
    const now = Date.now();
    const [row] = await db
      .insert(composes)
      .values({
        owner: "bench",
        sourceType: 3,
        source: "/srv/repos/a",
        state: 2,
        timeSubmitted: now,
        timeDone: now,
        timeToExpire: now + 86_400_000,
        arches: "x86_64",
        lookasideRepos: "",
        composeType: "test",
        packages: "bash wget",
      })
      .returning();
    const path = `/api/1/composes/${row?.id}`;

    const outdir = join(dir, "bundle");
    execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      stdio: "ignore",
    });
    for (const [name, cacheSeconds] of [
      ["workerd, edge cache", "60"],
      ["workerd, no cache", "0"],
    ] as const) {
      const mf = new Miniflare({
        modules: true,
        scriptPath: join(outdir, "edge.js"),
        modulesRoot: outdir,
        compatibilityDate: "2026-04-01",
        bindings: {
          ODCS_DATABASE_URL: hrana.url,
          ODCS_EDGE_CACHE_SECONDS: cacheSeconds,
          ...SETTINGS,
        },
      });
      const origin = (await mf.ready).origin;
      await load(`${origin}${path}`); // warm-up: JIT, the first query, the cache
      report(name, await load(`${origin}${path}`));
      await mf.dispose();
    }

    const app = createApp({
      db: createDb(createClient({ url: hrana.url })),
      clock: systemClock,
      config: loadConfig({}, SETTINGS),
      log: silentLogger,
      auth: noauthAuthenticator,
      version: "bench",
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    cleanups.unshift(() => new Promise((r) => server.close(r)));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await load(`http://127.0.0.1:${port}${path}`);
    report("node server", await load(`http://127.0.0.1:${port}${path}`));
    console.log(
      `(${REQUESTS} requests, ${CONCURRENCY} at once, database over Hrana HTTP on 127.0.0.1)`,
    );
  } finally {
    for (const c of cleanups) await c();
  }
}
