/**
 * Read API at a million composes (issue 13): seeds BENCH_COMPOSES (default
 * 1 000 000) composes — a mix of states, owners, labels, source types — into
 * a fresh database with a few INSERT … SELECT over a recursive CTE, starts
 * the real service (`src/main.ts`: API + worker + sweep), and measures each
 * request shape with `wrk` (Debian package `wrk`; 2 threads, 32
 * connections, BENCH_SECONDS each, default 10): req/s, p50, p99 and the
 * ratio of req/s to `about` in the same run. Then the same reads again
 * while the in-process worker generates composes, against the idle p99.
 * Prints the database file size per compose.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { migrateDatabase } from "../src/db/migrate.ts";
import { FIXTURES_DIR } from "../test/helpers/fixtures.ts";
import { startService } from "./compose.ts";
import { type WrkFigures, wrk } from "./wrk.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const N = Number(process.env.BENCH_COMPOSES ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 32;
const SEED_CHUNK = 100_000;
const T0 = Date.parse("2024-01-01T00:00:00Z");
const YEAR_MS = 365 * 86_400_000;
const COMPOSE_REPO = join(FIXTURES_DIR, "repos/libdnf-dnf-ci-fedora");

const _sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/**
 * Rows i = lo..hi: 60 % removed, 20 % done, 10 % failed, 5 % wait, 5 %
 * generating; 500 owners; source types tag/repo/build/module; every 20th
 * with one of 1 000 labels; Koji events on tag/build composes.
 */
function seedSql(lo: number, hi: number, now: number): string {
  return `
WITH RECURSIVE n(i) AS (SELECT ${lo} UNION ALL SELECT i + 1 FROM n WHERE i < ${hi})
INSERT INTO composes (owner, source_type, source, state, state_reason, time_submitted,
  time_to_expire, time_started, time_done, time_removed, removed_by, koji_event, packages,
  sigkeys, arches, label, compose_type, pungi_compose_id, flags, results)
SELECT
  'user' || (i % 500),
  CASE i % 4 WHEN 0 THEN 1 WHEN 1 THEN 3 WHEN 2 THEN 6 ELSE 2 END,
  CASE i % 4 WHEN 1 THEN '/srv/repos/r' || (i % 50) ELSE 'f40-build-' || (i % 50) END,
  s,
  CASE s WHEN 3 THEN 'Compose is removed' WHEN 2 THEN 'Compose is generated successfully'
         WHEN 4 THEN 'Error while generating compose' ELSE NULL END,
  ${T0} + i * 60000,
  CASE WHEN s IN (2, 4) THEN ${now + YEAR_MS} ELSE ${T0} + i * 60000 + 86400000 END,
  CASE WHEN s = 0 THEN NULL ELSE ${T0} + i * 60000 + 1000 END,
  CASE WHEN s IN (2, 3) THEN ${T0} + i * 60000 + 30000 ELSE NULL END,
  CASE WHEN s = 3 THEN ${T0} + i * 60000 + 86400000 ELSE NULL END,
  NULL,
  CASE WHEN i % 4 IN (0, 2) THEN 40000000 + i ELSE NULL END,
  'bash wget',
  '',
  'x86_64',
  CASE WHEN i % 20 = 0 THEN 'RC-' || (i / 20 % 1000) ELSE NULL END,
  CASE WHEN i % 3 = 0 THEN 'production' ELSE 'test' END,
  CASE WHEN s IN (2, 3) THEN 'odcs-' || i || '-1-20240101.t.0' ELSE NULL END,
  0, 1
FROM (SELECT i, CASE WHEN i % 20 < 12 THEN 3 WHEN i % 20 < 16 THEN 2 WHEN i % 20 < 18 THEN 4
                     WHEN i % 20 = 18 THEN 0 ELSE 1 END AS s FROM n)`;
}

export async function seed(dbPath: string): Promise<void> {
  const client = createClient({ url: `file:${dbPath}` });
  await migrateDatabase(client, join(ROOT, "migrations"));
  const started = performance.now();
  for (let lo = 1; lo <= N; lo += SEED_CHUNK)
    await client.execute(seedSql(lo, Math.min(N, lo + SEED_CHUNK - 1), Date.now()));
  await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  const seconds = (performance.now() - started) / 1000;
  const total = (await client.execute("SELECT n FROM compose_counts WHERE kind = 'all'")).rows[0];
  client.close();
  const bytes = statSync(dbPath).size;
  console.log(
    `seeded ${Number(total?.n)} composes in ${seconds.toFixed(1)} s; database ${(bytes / 1024 ** 2).toFixed(0)} MiB, ${(bytes / N).toFixed(0)} bytes per compose`,
  );
}

/**
 * Seed into `dbPath`, or copy the database a previous run seeded with the
 * same N and migrations (kept under .cache/, ~450 MiB per million).
 */
async function seededCopy(dbPath: string): Promise<void> {
  const migrations = readdirSync(join(ROOT, "migrations")).filter((f) => f.endsWith(".sql"));
  const last = migrations
    .sort()
    .at(-1)
    ?.replace(/\.sql$/, "");
  const kept = join(ROOT, ".cache", `bench-api-seed-${N}-${last}.db`);
  if (!existsSync(kept)) {
    await seed(`${kept}.tmp`);
    renameSync(`${kept}.tmp`, kept);
  } else {
    const bytes = statSync(kept).size;
    console.log(
      `seeded database copied from ${kept}: ${(bytes / 1024 ** 2).toFixed(0)} MiB, ${(bytes / N).toFixed(0)} bytes per compose`,
    );
  }
  copyFileSync(kept, dbPath);
}

/** One shape's load: 2 threads × CONNECTIONS for SECONDS. */
const measure = (url: string, script?: string) =>
  wrk(url, { threads: 2, connections: CONNECTIONS, seconds: SECONDS, script });

/** Keep `inFlight` repo composes generating (no reuse) until `stop` is set. */
function composeLoad(base: string, inFlight: number) {
  const state = { stop: false, done: 0, failed: 0, lastReason: "" };
  const one = async () => {
    while (!state.stop) {
      const res = await fetch(`${base}/api/1/composes/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          source: { type: "repo", source: COMPOSE_REPO, packages: ["wget"] },
          flags: ["no_reuse"],
        }),
      });
      const created = (await res.json()) as { id?: number };
      if (created.id === undefined) throw new Error(`POST answered ${res.status}`);
      let got: { state_name: string; state_reason: string | null };
      do {
        const res = await fetch(`${base}/api/1/composes/${created.id}/wait?state=done&timeout=60`);
        got = (await res.json()) as typeof got;
        if (res.status !== 200) throw new Error(`wait answered ${res.status}`);
      } while (got.state_name === "wait" || got.state_name === "generating");
      if (got.state_name === "done") state.done++;
      else {
        state.failed++;
        state.lastReason = `${got.state_name}: ${got.state_reason}`;
      }
    }
  };
  const running = Promise.all(Array.from({ length: inFlight }, one));
  return { state, running };
}

const fmt = (f: WrkFigures, about?: WrkFigures) =>
  `${f.rps.toFixed(0).padStart(7)} req/s  p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99
    .toFixed(2)
    .padStart(
      7,
    )} ms${about ? `  ${((100 * f.rps) / about.rps).toFixed(0).padStart(3)} % of about` : ""}${f.non2xx ? `  (${f.non2xx} non-2xx!)` : ""}`;

export async function benchApi(): Promise<void> {
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  const root = mkdtempSync(join(ROOT, ".cache", "bench-api-"));
  const dbPath = join(root, "odcs.db");
  try {
    await seededCopy(dbPath);
    // The compose bench's service start: src/main.ts on root/odcs.db (dbPath).
    const svc = await startService(root);
    try {
      const script = join(root, "random-id.lua");
      writeFileSync(
        script,
        `math.randomseed(os.time())\nrequest = function()\n  return wrk.format(nil, "/api/1/composes/" .. math.random(1, ${N}))\nend\n`,
      );
      // Every request a different page: no list page is ever answered from the kept ones.
      const uncached = join(root, "random-list.lua");
      writeFileSync(
        uncached,
        `math.randomseed(os.time())\nlocal states = {"wait", "generating", "done", "removed", "failed"}\nrequest = function()\n  local r = math.random(1, 3)\n  local q\n  if r == 1 then q = "owner=user" .. math.random(0, 499)\n  elseif r == 2 then q = "label=RC-" .. math.random(0, 999)\n  else q = "state=" .. states[math.random(1, 5)] .. "&order_by=-time_submitted" end\n  return wrk.format(nil, "/api/1/composes/?" .. q .. "&page=" .. math.random(1, 5))\nend\n`,
      );
      const c = `${svc.base}/api/1/composes/`;
      const shapes: [string, string, string?][] = [
        ["GET /composes/<random id>", c, script],
        ["GET /composes/ (first page)", c],
        ["?label=RC-500", `${c}?label=RC-500`],
        ["?state=done", `${c}?state=done`],
        ["?source_type=repo", `${c}?source_type=repo`],
        ["?owner=user7", `${c}?owner=user7`],
        ["?order_by=-time_submitted", `${c}?order_by=-time_submitted`],
        ["?state=done&owner=user7", `${c}?state=done&owner=user7`],
        ["random owner/label/state, page", c, uncached],
      ];
      const about = await measure(`${svc.base}/api/1/about/`);
      console.log(`${"GET /about/ (framework floor)".padEnd(32)}${fmt(about)}`);
      const idle = new Map<string, WrkFigures>();
      for (const [name, url, s] of shapes) {
        const f = await measure(url, s);
        idle.set(name, f);
        console.log(`${name.padEnd(32)}${fmt(f, about)}`);
      }
      console.log("# while the worker generates composes (2 in flight)");
      const load = composeLoad(svc.base, 2);
      for (const [name, url, s] of shapes) {
        const f = await measure(url, s);
        const base = idle.get(name);
        const ratio = base ? (f.p99 / base.p99).toFixed(2) : "?";
        console.log(`${name.padEnd(32)}${fmt(f)}  p99 ${ratio}× idle`);
      }
      load.state.stop = true;
      await load.running;
      console.log(
        `composes generated meanwhile: ${load.state.done} done, ${load.state.failed} not done${load.state.failed ? ` (last: ${load.state.lastReason})` : ""}`,
      );
    } finally {
      await svc.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
