/**
 * The soak-and-chaos harness (issue 18): a server and N worker processes on
 * one database file, K composes over local repos, HTTP repos behind the
 * fault-injecting proxy and a Koji tag on the protocol-level hub, while a
 * seeded chaos loop kill -9s random workers and the server, SIGSTOPs a
 * worker past its lease and resumes it, and restarts what it killed. Then it
 * lets everything settle and checks what must always hold.
 *
 * `npm run soak` (bench/soak.ts) runs the full size; test/e2e/soak.test.ts a
 * small one.
 */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import type { CrashPoint } from "../src/crash-points.ts";
import { BUSY_TIMEOUT_MS, createDb, type Db } from "../src/db/client.ts";
import { composes, events, jobs } from "../src/db/schema.ts";
import { FINAL_STATES } from "../src/domain/transitions.ts";
import { prng } from "../test/helpers/corpus.ts";
import { tempDir } from "../test/helpers/db.ts";
import { type FaultProxy, startFaultProxy } from "../test/helpers/fault-proxy.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../test/helpers/koji-hub.ts";
import { leftoverProblems } from "../test/helpers/published-tree.ts";
import {
  freePort,
  LIBDNF_REPO,
  repoServer,
  type ServiceProcess,
  startService,
} from "../test/helpers/service.ts";
import { checkSoak, type SoakFindings, STATE_NAMES } from "./soak-check.ts";
import { CrashArming, hasReached, type ProcessKind } from "./soak-crash.ts";
import {
  DB_FULL_503,
  DISK_FULL_REASON,
  type DiskFillOptions,
  failedForSpace,
  fillLoop,
  fillsDone,
  SoakDisks,
  unclearDiskFailures,
} from "./soak-disk.ts";

export interface SoakOptions {
  seed: number;
  workers: number;
  composes: number;
  /** Mean time between chaos actions (exponentially distributed), ms. */
  killEveryMs: number;
  /** Worker lease (ODCS_WORKER_LEASE_MS); a SIGSTOP lasts 1.5 leases. */
  leaseMs: number;
  /** Fraction of proxied HTTP requests that meet a transient fault. */
  faultRate: number;
  /** ODCS_JOB_MAX_ATTEMPTS of every process (default 5): fewer, and composes run out of attempts while a disk is full. */
  maxAttempts?: number;
  /** Bound for everything to settle after the chaos stops, ms. */
  drainMs: number;
  /** Mean time between user operations (DELETE, PATCH) during the chaos, ms; 0: none. */
  opsEveryMs: number;
  /**
   * A short run (CI): the chaos takes this many actions, the first three
   * one of each kind (worker kill -9, server kill -9, SIGSTOP past the
   * lease), and ends after them rather than once the queue has drained.
   */
  chaosActions?: number;
  /**
   * Kills at random moments: the share (0–1) of process starts armed at a
   * crash point drawn from the seed (bench/soak-crash.ts); a process that
   * reaches its point is killed -9 there and restarted. 0 or unset: none.
   */
  crashShare?: number;
  /** A short run with crash points: the chaos also lasts until this many processes were killed at theirs. */
  crashKills?: number;
  /**
   * A disk filled while composes run (bench/soak-disk.ts): the named
   * directories each on a private tmpfs, filled now and then by a seeded
   * loop beside the kills and freed a while later. Unset: no fills.
   */
  fillDisk?: DiskFillOptions;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /**
   * Keep what is needed to find a failure's cause here (created if missing):
   * the database, the compose tree and every process's output.
   */
  keepDir?: string;
}

export const SOAK_DEFAULTS: SoakOptions = {
  seed: 1,
  workers: 4,
  composes: 500,
  killEveryMs: 2000,
  leaseMs: 3000,
  faultRate: 0.05,
  drainMs: 240_000,
  opsEveryMs: 500,
};

export interface SoakReport extends SoakFindings {
  options: SoakOptions;
  seconds: number;
  submitted: number;
  byState: Record<string, number>;
  failedReasons: Record<string, number>;
  /** The last error of every job that has one (retried or failed), normalised, counted. */
  jobErrors: Record<string, number>;
  /** What was submitted, by source, and how many were short-lived; composes done by reuse. */
  mix: Record<string, number>;
  /** User operations during the chaos and their answers ("DELETE 202": n). */
  ops: {
    deletes: number;
    renewals: number;
    regenerations: number;
    statuses: Record<string, number>;
  };
  /** Answers to user operations that ODCS would not give (4xx other than the documented ones). */
  unexpected: string[];
  /** What the chaos did; `idle`: draws that found no process to act on; `seconds`: how long it ran; `restartMs`: from each kill to the new process ready. */
  chaos: {
    workerKills: number;
    serverKills: number;
    stops: number;
    idle: number;
    seconds: number;
    restartMs: { server: number[]; worker: number[] };
  };
  /** Per crash point: process starts armed there, and processes killed there (random crash mode). */
  crashPoints: Record<string, { armed: number; reached: number }>;
  faults: Record<string, number>;
  requests: {
    total: number;
    status5xx: number;
    refused: number;
    /** Writes cut off by a server kill after they were sent (not retried). */
    cutOff: number;
    getP50Ms: number;
    getP99Ms: number;
  };
  errors5xx: string[];
  /** With `fillDisk`: the fills and what they did. */
  disk?: {
    fills: Record<string, { fills: number; aimed: number; secondsFull: number }>;
    /** Where the run's disks were mounted (unmounted when it returns). */
    mountPoints: string[];
    /** Composes failed with the disk-full reason (out of attempts while a disk was full). */
    failedForSpace: number;
    /** Jobs whose last error was the full disk (retried, or failed with it). */
    jobsMetFullDisk: number;
    /** 503s "the database disk is full" by method: expected while the database's disk is full, not 5xx bugs. */
    status503Full: Record<string, number>;
    /** Composes submitted once every disk was free again, and how many of them ended done. */
    recovery: { submitted: number; done: number };
  };
  /** Failed composes that met a full disk but do not say so plainly (bench/soak-disk.ts). */
  unclearDisk: string[];
  /** Composes submitted after the disks were freed that did not end done. */
  notRecovered: string[];
}

/** The Koji tag the soak composes from: real fixture RPMs, one build per source RPM. */
function kojiModel(): KojiModel {
  const model = new KojiModel({ topdir: tempDir("soak-koji-") });
  model.createTag("soak-tag", { arches: ["x86_64"] });
  const rpm = (f: string) => join(LIBDNF_REPO, "x86_64", f);
  const builds = [
    ["flac-1.3.2-8.fc29.x86_64.rpm", "flac-libs-1.3.2-8.fc29.x86_64.rpm"],
    ["lame-3.100-4.fc29.x86_64.rpm", "lame-libs-3.100-4.fc29.x86_64.rpm"],
    ["dwm-6.1-1.x86_64.rpm"],
  ];
  for (const n of ["flac", "flac-libs", "lame", "lame-libs", "dwm"])
    model.addPackage("soak-tag", n);
  model.importBuilds(builds.map((b) => ({ rpms: b.map(rpm) })));
  for (const nvr of ["flac-1.3.2-8.fc29", "lame-3.100-4.fc29", "dwm-6.1-1"])
    model.tagBuild("soak-tag", nvr);
  return model;
}

/** Koji `build` composes: NVRs and the packages asked of them. */
const BUILD_SETS: [string[], string[]][] = [
  [["flac-1.3.2-8.fc29"], ["flac", "flac-libs"]],
  [
    ["lame-3.100-4.fc29", "dwm-6.1-1"],
    ["lame", "dwm"],
  ],
];
/** Share of composes submitted with a life of 2–6 s. */
const SHORT_LIVED_SHARE = 0.1;
const PACKAGE_SETS = [["flac"], ["lame"], ["dwm"], ["flac", "lame"], ["lame", "dwm"]];
const REPO_ONLY_SETS = [["CQRlib"], ["http-parser"], ["ninja-build"], ["abcde"]];

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const say = opts.progress ?? (() => {});
  // One stream per activity, so the compose mix and the user operations a
  // seed gives do not depend on how the chaos and the reads interleave.
  const rnd = prng(opts.seed);
  const rndChaos = prng(opts.seed + 1_000_003);
  const rndOps = prng(opts.seed + 2_000_003);
  const rndRead = prng(opts.seed + 3_000_003);
  const pickWith =
    (r: () => number) =>
    <T>(xs: readonly T[]): T =>
      xs[Math.floor(r() * xs.length)] as T;
  const pick = pickWith(rnd);
  const started = performance.now();

  const upstream = await repoServer(LIBDNF_REPO);
  const proxy: FaultProxy = await startFaultProxy(upstream.url);
  proxy.random({
    seed: opts.seed,
    rate: opts.faultRate,
    faults: ["status", "reset", "truncate", "stall"],
    stallMs: 200,
  });
  const hub: KojiHub = await startKojiHub(kojiModel());
  const dataDir = tempDir("soak-data-");
  const disks = opts.fillDisk
    ? new SoakDisks(opts.fillDisk.disks, opts.fillDisk.diskMb)
    : undefined;
  try {
    const targetDir = disks?.dir("target") ?? join(dataDir, "composes");
    const dbDir = disks?.dir("db") ?? dataDir;
    mkdirSync(targetDir, { recursive: true });
    mkdirSync(dbDir, { recursive: true });
    mkdirSync(disks?.dir("cache") ?? join(dataDir, "cache"), { recursive: true });
    const dbUrl = `file:${join(dbDir, "odcs.db")}`;
    // One port for every start of the server, so the workers' composes (their
    // URLs, the reasons of their failures) name the server they are served by.
    const serverPort = await freePort();
    const env = {
      ODCS_WORKER_LEASE_MS: String(opts.leaseMs),
      ODCS_WORKER_POLL_MS: "50",
      ODCS_WORKER_CONCURRENCY: "2",
      ODCS_JOB_MAX_ATTEMPTS: String(opts.maxAttempts ?? 5),
      ODCS_WORKER_GRACE_MS: "2000",
      ODCS_SWEEP_CRON: "* * * * * *",
      ODCS_ALLOWED_REPO_URLS: proxy.url,
      ODCS_DOWNLOAD_TIMEOUT_MS: "2000",
      ODCS_KOJI_HUB_URL: hub.hubUrl,
      ODCS_KOJI_TOPURL: hub.topurl,
      ODCS_KOJI_TIMEOUT_MS: "5000",
      ODCS_CACHE_DIR: disks?.dir("cache") ?? join(dataDir, "cache"),
      ODCS_ALLOWED_SOURCE_TYPES: "tag,build,repo",
      ODCS_LOG_LEVEL: "info",
      ODCS_TARGET_DIR: targetDir,
      ODCS_TARGET_DIR_URL: `http://127.0.0.1:${serverPort}/composes`,
      ODCS_DATABASE_URL: dbUrl,
    };
    const everyProcess: ServiceProcess[] = [];
    const arming = new CrashArming(opts.seed, opts.crashShare ?? 0);
    /** Processes armed at a crash point, and how far their output has been looked at. */
    const armedAt = new Map<ServiceProcess, { point: CrashPoint; scanned: number }>();
    /** Arming stops with the chaos (the drain must be able to finish), and in a short run once its kills are done. */
    let chaosOn = true;
    let crashKills = 0;
    const crashEnv = (kind: ProcessKind): { env: Record<string, string>; point?: CrashPoint } => {
      const enough = opts.crashKills !== undefined && crashKills >= opts.crashKills;
      const point = chaosOn && !enough ? arming.draw(kind) : undefined;
      return point ? { env: { ODCS_TEST_CRASH_AT: point }, point } : { env: {} };
    };
    const armed = (p: ServiceProcess, point: CrashPoint | undefined) => {
      if (point) armedAt.set(p, { point, scanned: 0 });
      return p;
    };
    /** A start that times out (a loaded machine) is tried again: the harness's restarts must not give up. */
    const started_ = async (start: () => Promise<ServiceProcess>): Promise<ServiceProcess> => {
      for (let tries = 1; ; tries++) {
        try {
          return await start();
        } catch (err) {
          if (tries >= 5) throw err;
          say(`a restart failed (${String(err).split("\n")[0]}); trying again`);
        }
      }
    };
    const startServer = () =>
      started_(async () => {
        const crash = crashEnv("server");
        const s = await startService({
          entry: "src/server.ts",
          dataDir,
          port: serverPort,
          env: { ...env, ...crash.env },
          timeoutMs: 60_000,
        });
        everyProcess.push(s);
        return armed(s, crash.point);
      });
    const startWorker = (i: number) =>
      started_(async () => {
        const crash = crashEnv("worker");
        const w = await startService({
          entry: "src/worker.ts",
          dataDir,
          env: { ...env, ...crash.env, ODCS_WORKER_ID: `soak-w${i}-${everyProcess.length}` },
          readyText: "worker started",
          timeoutMs: 60_000,
        });
        everyProcess.push(w);
        return armed(w, crash.point);
      });

    let server = await startServer();
    const workers: (ServiceProcess | undefined)[] = await Promise.all(
      Array.from({ length: opts.workers }, (_, i) => startWorker(i)),
    );
    const db: Db = createDb(createClient({ url: dbUrl, timeout: BUSY_TIMEOUT_MS }));

    const counts = { total: 0, status5xx: 0, refused: 0, cutOff: 0 };
    /** 503s of the database's full disk, by method: expected while it is full (counted apart). */
    const status503Full: Record<string, number> = {};
    const dbFull = new WeakSet<Response>();
    const errors5xx: string[] = [];
    const getMs: number[] = [];
    /**
     * One HTTP call to the current server. A refused connection (server down)
     * is tried again; a write cut off by a server kill after it was sent is
     * not, as the client cannot know whether it was committed: `undefined`.
     */
    const call = async (path: string, init?: RequestInit): Promise<Response | undefined> => {
      for (let tries = 0; ; tries++) {
        const base = server.url;
        const t0 = performance.now();
        try {
          const res = await fetch(`${base}${path}`, {
            ...init,
            signal: AbortSignal.timeout(30_000),
          });
          counts.total++;
          if ((init?.method ?? "GET") === "GET") getMs.push(performance.now() - t0);
          if (res.status >= 500) {
            const text = await res.text();
            const method = init?.method ?? "GET";
            if (res.status === 503 && disks?.diskOf("db") && DB_FULL_503.test(text)) {
              status503Full[method] = (status503Full[method] ?? 0) + 1;
              const refused = new Response(text, { status: res.status, headers: res.headers });
              dbFull.add(refused);
              return refused;
            }
            counts.status5xx++;
            errors5xx.push(`${method} ${path} → ${res.status} ${text}`);
            return new Response(text, { status: res.status, headers: res.headers });
          }
          return res;
        } catch (err) {
          const refused = (err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
          if (!refused && (init?.method ?? "GET") !== "GET") {
            counts.cutOff++;
            return undefined;
          }
          counts.refused++;
          if (tries > 3000) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };

    const mix = { localRepo: 0, httpRepo: 0, tag: 0, build: 0, shortLived: 0 };
    let bodies = 0;
    const bodyFor = (): unknown => {
      // The first four are one of each source, so even a short run has them all.
      const kind = [0.1, 0.5, 0.8, 0.95][bodies++] ?? rnd();
      const flags = rnd() < 0.8 ? ["no_deps", "no_reuse"] : ["no_deps"];
      // Some live only seconds, so the sweep expires composes during the run.
      const short = rnd() < SHORT_LIVED_SHARE;
      const life = short ? { seconds_to_live: 2 + Math.floor(rnd() * 5) } : {};
      if (short) mix.shortLived++;
      if (kind < 0.45) {
        mix.localRepo++;
        const pkgs = pick(rnd() < 0.5 ? PACKAGE_SETS : REPO_ONLY_SETS);
        return { source: { type: "repo", source: LIBDNF_REPO, packages: pkgs }, flags, ...life };
      }
      if (kind < 0.75) {
        mix.httpRepo++;
        const pkgs = pick(PACKAGE_SETS);
        return { source: { type: "repo", source: proxy.url, packages: pkgs }, flags, ...life };
      }
      if (kind < 0.9) {
        mix.tag++;
        const pkgs = pick(PACKAGE_SETS);
        return { source: { type: "tag", source: "soak-tag", packages: pkgs }, flags, ...life };
      }
      mix.build++;
      const [builds, pkgs] = pick(BUILD_SETS);
      return { source: { type: "build", builds, packages: pkgs }, flags, ...life };
    };

    // Chaos: kill -9 a worker (most often), the server, or SIGSTOP a worker past its lease.
    const chaos = {
      workerKills: 0,
      serverKills: 0,
      stops: 0,
      idle: 0,
      seconds: 0,
      restartMs: { server: [] as number[], worker: [] as number[] },
    };
    const actions = () => chaosActionCount(chaos);
    let serverDown = false;
    /** kill -9 the server and start another (in the background; `serverDown` until it answers). */
    const restartServer = () => {
      serverDown = true;
      const old = server;
      background(
        (async () => {
          const t0 = performance.now();
          await old.kill();
          server = await startServer();
          serverDown = false;
          chaos.restartMs.server.push(performance.now() - t0);
        })(),
      );
    };
    const pending = new Set<Promise<unknown>>();
    const background = (p: Promise<unknown>) => {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    };
    // Actions run in the background (a restart takes seconds), so they come
    // at the chosen rate. The kind is drawn first, then its target among the
    // processes it can act on (not being restarted, stopped, or held at a
    // crash point; `actable`); a draw with no target is counted (`chaos.idle`).
    const stopped = new Set<number>();
    /** A process stopped at its crash point is the watcher's to kill, not the chaos's. */
    const atCrashPoint = (p: ServiceProcess) => {
      const a = armedAt.get(p);
      return a !== undefined && hasReached(p.output(), a.point, 0).reached;
    };
    const actable = () =>
      workers.flatMap((w, i) => (w?.child.pid && !stopped.has(i) && !atCrashPoint(w) ? [i] : []));
    const killServer = () => {
      chaos.serverKills++;
      say(`chaos: kill -9 server (pid ${server.child.pid})`);
      restartServer();
    };
    const stopWorker = (i: number, pid: number) => {
      chaos.stops++;
      stopped.add(i);
      say(`chaos: SIGSTOP worker ${i} (pid ${pid}) for ${opts.leaseMs * 1.5} ms`);
      process.kill(pid, "SIGSTOP");
      background(
        (async () => {
          await new Promise((r) => setTimeout(r, opts.leaseMs * 1.5));
          try {
            process.kill(pid, "SIGCONT");
          } catch {
            // killed meanwhile at its crash point
          }
          stopped.delete(i);
        })(),
      );
    };
    const killWorker = (i: number, w: ServiceProcess) => {
      chaos.workerKills++;
      say(`chaos: kill -9 worker ${i} (pid ${w.child.pid})`);
      workers[i] = undefined;
      background(
        (async () => {
          const t0 = performance.now();
          await w.kill();
          workers[i] = await startWorker(i);
          chaos.restartMs.worker.push(performance.now() - t0);
        })(),
      );
    };
    const chaosStarted = performance.now();
    const chaosLoop = (async () => {
      while (chaosOn) {
        const wait = -Math.log(1 - rndChaos()) * opts.killEveryMs;
        await new Promise((r) => setTimeout(r, wait));
        if (!chaosOn) break;
        const taken = actions();
        if (opts.chaosActions !== undefined && taken >= opts.chaosActions) break;
        // A short run covers every kind first: a worker kill, a server kill, a stop.
        const roll =
          opts.chaosActions !== undefined && taken < 3 ? ([0.5, 0.1, 0.2][taken] ?? 0) : rndChaos();
        const action = chooseChaos(
          roll,
          rndChaos(),
          actable(),
          !serverDown && !atCrashPoint(server),
        );
        const w = action.worker === undefined ? undefined : workers[action.worker];
        if (action.kind === "kill server") killServer();
        else if (action.kind === "stop worker" && w?.child.pid)
          stopWorker(action.worker, w.child.pid);
        else if (action.kind === "kill worker" && w) killWorker(action.worker, w);
        else chaos.idle++;
      }
      chaos.seconds = (performance.now() - chaosStarted) / 1000;
      while (pending.size > 0) await Promise.all([...pending]);
    })();

    // A disk filled while composes run, freed a while later (bench/soak-disk.ts).
    const rndDisk = prng(opts.seed + 5_000_003);
    const fills =
      disks && opts.fillDisk
        ? fillLoop({
            disks,
            opts: opts.fillDisk,
            rnd: rndDisk,
            on: () => chaosOn,
            generating: async () =>
              (
                await db
                  .select({ id: composes.id })
                  .from(composes)
                  .where(eq(composes.state, 1))
                  .limit(1)
              ).length > 0,
            metFull: async (disk) =>
              disk === "db" ||
              (await db.select({ e: jobs.lastError }).from(jobs)).some((j) =>
                DISK_FULL_REASON.test(j.e ?? ""),
              ),
            background,
            say,
          })
        : Promise.resolve();

    // Kills at random moments: a process stopped at its armed crash point is
    // killed -9 there and restarted (armed anew while the chaos runs).
    let watching = arming.enabled;
    /** Worker slots being restarted after a crash-point kill (the drain must not start a second one). */
    const restarting = new Set<number>();
    const reachedBy = (p: ServiceProcess | undefined): CrashPoint | undefined => {
      const a = p && armedAt.get(p);
      if (!p || !a) return undefined;
      const { reached, next } = hasReached(p.output(), a.point, a.scanned);
      a.scanned = next;
      if (!reached) return undefined;
      armedAt.delete(p);
      arming.reached(a.point);
      crashKills++;
      return a.point;
    };
    const crashWatch = (async () => {
      while (watching) {
        await new Promise((r) => setTimeout(r, 100));
        const atServer = serverDown ? undefined : reachedBy(server);
        if (atServer) {
          serverDown = true;
          say(`crash point ${atServer}: kill -9 server (pid ${server.child.pid})`);
          restartServer();
        }
        for (let i = 0; i < opts.workers; i++) {
          const w = workers[i];
          const point = reachedBy(w);
          if (!w || !point) continue;
          say(`crash point ${point}: kill -9 worker ${i} (pid ${w.child.pid})`);
          workers[i] = undefined;
          restarting.add(i);
          background(
            (async () => {
              await w.kill();
              workers[i] = await startWorker(i);
              restarting.delete(i);
            })(),
          );
        }
      }
    })();

    // Submit K composes, a few in flight at once.
    const acked: number[] = [];
    let next = 0;
    const submitter = async () => {
      while (next < opts.composes) {
        next++;
        const body = JSON.stringify(bodyFor());
        let res = await call("/api/1/composes/", { method: "POST", body });
        // The database's disk full: nothing was written, so the same POST is sent again.
        while (res && dbFull.has(res)) {
          await new Promise((r) => setTimeout(r, 250));
          res = await call("/api/1/composes/", { method: "POST", body });
        }
        // Cut off by a server kill (committed or not, the client cannot tell):
        // another create takes its place, so K acknowledged composes go through the chaos.
        if (!res) {
          next--;
          continue;
        }
        if (res.status === 200) acked.push(((await res.json()) as { id: number }).id);
        else if (res.status < 500)
          throw new Error(`POST answered ${res.status}: ${await res.text()}`);
        if (acked.length % 50 === 0) say(`submitted ${acked.length}/${opts.composes}`);
      }
    };
    // What users do besides creating, while the chaos runs: cancel or delete
    // (DELETE: 202 for a waiting or generating compose (cancelled) and a done
    // or failed one (deleted), 400 for one removed), renew (PATCH: a done one is extended in place,
    // a failed or removed one is regenerated as a new compose, one waiting or
    // generating is 404), and regenerate removed composes by name.
    const ops = {
      deletes: 0,
      renewals: 0,
      regenerations: 0,
      statuses: {} as Record<string, number>,
    };
    const unexpected: string[] = [];
    const answered = (op: string, res: Response | undefined, allowed: number[]) => {
      if (!res) return;
      const key = `${op} ${res.status}`;
      ops.statuses[key] = (ops.statuses[key] ?? 0) + 1;
      if (!allowed.includes(res.status) && res.status < 500) unexpected.push(key);
    };
    const newId = async (res: Response | undefined, old: number) => {
      if (res?.status !== 200) return;
      const id = ((await res.json()) as { id: number }).id;
      if (id !== old) acked.push(id);
    };
    const opsLoop = (async () => {
      while (chaosOn && opts.opsEveryMs > 0) {
        await new Promise((r) => setTimeout(r, -Math.log(1 - rndOps()) * opts.opsEveryMs));
        if (acked.length === 0 || !chaosOn) continue;
        const roll = rndOps();
        const id = pickWith(rndOps)(acked);
        if (roll < 0.4) {
          ops.deletes++;
          answered("DELETE", await call(`/api/1/composes/${id}`, { method: "DELETE" }), [202, 400]);
        } else if (roll < 0.7) {
          ops.renewals++;
          const res = await call(`/api/1/composes/${id}`, { method: "PATCH" });
          answered("PATCH", res, [200, 404]);
          await newId(res, id);
        } else {
          const list = await call("/api/1/composes/?state=removed&per_page=20&order_by=-id");
          const items =
            list?.status === 200 ? ((await list.json()) as { items: { id: number }[] }).items : [];
          const gone = items.length > 0 ? pickWith(rndOps)(items).id : undefined;
          if (gone === undefined) continue;
          ops.regenerations++;
          const res = await call(`/api/1/composes/${gone}`, { method: "PATCH" });
          answered("PATCH removed", res, [200]);
          await newId(res, gone);
        }
      }
    })();
    // Readers meanwhile: single composes and list pages.
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const id = acked.length > 0 ? pickWith(rndRead)(acked) : 1;
        await call(
          rndRead() < 0.5 ? `/api/1/composes/${id}` : "/api/1/composes/?per_page=20&order_by=-id",
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all([submitter(), submitter(), submitter(), submitter()]);
    say(
      `all ${acked.length} submitted after ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    const unsettledCount = async () =>
      (await db.select({ state: composes.state }).from(composes)).filter(
        (c) => !FINAL_STATES.includes(c.state),
      ).length;
    // Chaos runs while the queue drains, until at most a tenth is left and
    // each disk to fill was filled once (or a short run's actions are taken,
    // or the bound).
    const chaosUntil = performance.now() + opts.drainMs / 2;
    const chaosDone = async () =>
      opts.chaosActions !== undefined
        ? actions() >= opts.chaosActions &&
          crashKills >= (opts.crashKills ?? 0) &&
          (!disks || !opts.fillDisk || fillsDone(disks, opts.fillDisk))
        : (await unsettledCount()) <= acked.length / 10 &&
          // A full run fills each disk at least once, however fast the queue drains.
          (!disks || !opts.fillDisk || fillsDone(disks, { ...opts.fillDisk, fillsPerDisk: 1 }));
    while (performance.now() < chaosUntil && !(await chaosDone()))
      await new Promise((r) => setTimeout(r, 250));
    chaosOn = false;
    await Promise.all([chaosLoop, opsLoop, fills]);
    while (pending.size > 0) await Promise.all([...pending]);
    disks?.freeAll();
    proxy.random(undefined);
    say("chaos stopped; draining");
    for (let i = 0; i < opts.workers; i++)
      if (!workers[i] && !restarting.has(i)) workers[i] = await startWorker(i);
    const drainUntil = performance.now() + opts.drainMs;
    let left = await unsettledCount();
    while (left > 0 && performance.now() < drainUntil) {
      await new Promise((r) => setTimeout(r, 500));
      left = await unsettledCount();
    }
    // Space back on every disk: composes of every source must succeed again.
    const recovery: number[] = [];
    if (disks) {
      // Processes still armed at a crash point would kill these composes' runs: all
      // is settled, so each is killed now (idle) and started again unarmed.
      watching = false;
      await crashWatch;
      while (pending.size > 0) await Promise.all([...pending]);
      if (armedAt.has(server)) {
        await server.kill();
        server = await startServer();
      }
      for (let i = 0; i < opts.workers; i++) {
        const w = workers[i];
        if (!w || !armedAt.has(w)) continue;
        await w.kill();
        workers[i] = await startWorker(i);
      }
      for (const body of recoveryBodies(proxy.url)) {
        const res = await call("/api/1/composes/", { method: "POST", body: JSON.stringify(body) });
        if (res?.status === 200) recovery.push(((await res.json()) as { id: number }).id);
      }
      acked.push(...recovery);
      say(`space back: composes ${recovery.join(", ")} submitted`);
      const until = performance.now() + opts.drainMs;
      while ((await unsettledCount()) > 0 && performance.now() < until)
        await new Promise((r) => setTimeout(r, 250));
    }
    reading = false;
    watching = false;
    await Promise.all([reader, crashWatch]);
    while (pending.size > 0) await Promise.all([...pending]);
    // The sweep (every second) removes what killed processes left in .staging and .removing.
    const leftoversUntil = performance.now() + 15_000;
    while ((await leftoverProblems(targetDir)).length > 0 && performance.now() < leftoversUntil)
      await new Promise((r) => setTimeout(r, 250));

    // Everything stops first: the sweep must not expire composes while they are checked.
    await Promise.all([server, ...workers].map((p) => p?.stop(10_000)));
    const rows = await db.select().from(composes);
    const jobRows = await db.select().from(jobs);
    const findings = await checkSoak({
      db,
      targetDir,
      writesCutOff: counts.cutOff,
      acked,
      outputs: everyProcess.map((p) => ({ name: String(p.child.pid), output: p.output() })),
      now: Date.now(),
    });
    const byState: Record<string, number> = {};
    const failedReasons: Record<string, number> = {};
    for (const r of rows) {
      const s = STATE_NAMES[r.state] ?? String(r.state);
      byState[s] = (byState[s] ?? 0) + 1;
      if (r.state === 4) {
        const reason = (r.stateReason ?? "").replace(/\d+/g, "N").slice(0, 140);
        failedReasons[reason] = (failedReasons[reason] ?? 0) + 1;
      }
    }
    const jobErrors: Record<string, number> = {};
    for (const j of jobRows) {
      if (!j.lastError) continue;
      const e = j.lastError.replace(/\d+/g, "N").slice(0, 160);
      jobErrors[e] = (jobErrors[e] ?? 0) + 1;
    }
    const report: SoakReport = {
      options: opts,
      seconds: (performance.now() - started) / 1000,
      submitted: acked.length,
      byState,
      failedReasons,
      jobErrors,
      mix: { ...mix, reused: rows.filter((r) => r.reusedId !== null).length },
      ops,
      unexpected,
      chaos,
      crashPoints: arming.counts(),
      faults: proxy.injected(),
      requests: {
        ...counts,
        getP50Ms: percentile(getMs, 50),
        getP99Ms: percentile(getMs, 99),
      },
      ...findings,
      errors5xx,
      ...(disks && {
        disk: {
          fills: disks.fills(),
          mountPoints: disks.mountPoints,
          failedForSpace: failedForSpace(rows),
          jobsMetFullDisk: jobRows.filter((j) => DISK_FULL_REASON.test(j.lastError ?? "")).length,
          status503Full,
          recovery: {
            submitted: recovery.length,
            done: rows.filter((r) => recovery.includes(r.id) && r.state === 2).length,
          },
        },
      }),
      unclearDisk: disks ? unclearDiskFailures(rows, await failedAt(db), disks) : [],
      notRecovered: rows
        .filter((r) => recovery.includes(r.id) && r.state !== 2)
        .map(
          (r) =>
            `compose ${r.id}: ${STATE_NAMES[r.state]} "${r.stateReason}" after space came back`,
        ),
    };
    await Promise.all([proxy.close(), upstream.close(), hub.close()]);
    if (opts.keepDir) keep(opts.keepDir, dataDir, everyProcess, { targetDir, dbDir });
    return report;
  } finally {
    disks?.freeAll();
    disks?.unmount();
  }
}

/** One compose of each source, built (not reused): after the fills, each must end done. */
function recoveryBodies(httpRepo: string): Record<string, unknown>[] {
  const flags = ["no_deps", "no_reuse"];
  return [
    { source: { type: "repo", source: LIBDNF_REPO, packages: ["flac"] }, flags },
    { source: { type: "repo", source: httpRepo, packages: ["lame"] }, flags },
    { source: { type: "tag", source: "soak-tag", packages: ["flac", "lame"] }, flags },
    { source: { type: "build", builds: ["dwm-6.1-1"], packages: ["dwm"] }, flags },
  ];
}

/** When each failed compose failed (its last event to failed), ms. */
async function failedAt(db: Db): Promise<Map<number, number>> {
  const rows = await db
    .select({ id: events.composeId, at: events.at })
    .from(events)
    .where(eq(events.toState, 4));
  return new Map(rows.map((r) => [r.id, r.at]));
}

/**
 * Copy the data dir (and the target and database dirs when they are
 * elsewhere, on the soak's disks) and write each process's output
 * (`<pid>.log`) under `dir`.
 */
function keep(
  dir: string,
  dataDir: string,
  processes: ServiceProcess[],
  where: { targetDir: string; dbDir: string },
): void {
  mkdirSync(dir, { recursive: true });
  cpSync(dataDir, join(dir, "data"), { recursive: true, verbatimSymlinks: true });
  if (!where.targetDir.startsWith(dataDir))
    cpSync(where.targetDir, join(dir, "composes"), { recursive: true, verbatimSymlinks: true });
  if (where.dbDir !== dataDir)
    cpSync(where.dbDir, join(dir, "db"), { recursive: true, verbatimSymlinks: true });
  for (const p of processes) writeFileSync(join(dir, `${p.child.pid}.log`), p.output());
}

/** Whether the report meets the targets: nothing lost, stuck, partial, doubled, unrecorded or 5xx. */
export function meetsTargets(r: SoakReport): boolean {
  return (
    r.lost.length === 0 &&
    r.stuck.length === 0 &&
    r.partial.length === 0 &&
    r.double.length === 0 &&
    r.unexpected.length === 0 &&
    r.missingEvents.length === 0 &&
    r.leftovers.length === 0 &&
    r.unacknowledged.length === 0 &&
    r.unclearDisk.length === 0 &&
    r.notRecovered.length === 0 &&
    r.requests.status5xx === 0
  );
}

export type ChaosAction =
  | { kind: "kill server"; worker?: undefined }
  | { kind: "stop worker" | "kill worker"; worker: number }
  | { kind: "none"; worker?: undefined };

/**
 * One chaos draw: `roll` (0–1) picks the kind — 15 % kill the server, 15 %
 * stop a worker past its lease, else kill a worker — and `pick` (0–1) the
 * worker among `workers`, those the chaos can act on now (a worker being
 * restarted or stopped is not drawn). A server kill with the server down (or
 * held at its crash point) acts on a worker; a worker action with no worker
 * to act on is "none" — not a server kill, which at a high rate would keep
 * the server down for good while the workers restart.
 */
export function chooseChaos(
  roll: number,
  pick: number,
  workers: readonly number[],
  serverActable: boolean,
): ChaosAction {
  const worker = workers[Math.floor(pick * workers.length)];
  if (roll < 0.15 && serverActable) return { kind: "kill server" };
  if (worker !== undefined) return { kind: roll < 0.3 ? "stop worker" : "kill worker", worker };
  return { kind: "none" };
}

/** The report as text; its last line is the targets line. */
export function formatReport(r: SoakReport): string {
  const o = r.options;
  const list = (what: string, xs: string[]) =>
    xs.length === 0 ? [] : [`${what}:`, ...xs.slice(0, 20).map((x) => `  ${x}`)];
  return [
    `soak: seed ${o.seed}, ${o.workers} workers, ${o.composes} composes, a chaos action every ${o.killEveryMs} ms on average, lease ${o.leaseMs} ms, ${(o.faultRate * 100).toFixed(0)} % HTTP faults`,
    `ran ${r.seconds.toFixed(1)} s; composes ${JSON.stringify(r.byState)}; ${(r.submitted / r.seconds).toFixed(1)} composes/s`,
    `mix: ${JSON.stringify(r.mix)}; user operations: ${r.ops.deletes} DELETE, ${r.ops.renewals} PATCH, ${r.ops.regenerations} PATCH of a removed compose; answers ${JSON.stringify(r.ops.statuses)}`,
    `chaos: ${r.chaos.seconds.toFixed(1)} s, ${chaosRate(r)}: ${r.chaos.workerKills} worker kill -9, ${r.chaos.serverKills} server kill -9, ${r.chaos.stops} SIGSTOP past the lease${r.chaos.idle > 0 ? `, ${r.chaos.idle} draws with every worker already out` : ""}${restartTimes(r)}; proxy faults ${JSON.stringify(r.faults)}`,
    ...crashLines(r),
    ...diskLines(r),
    `requests: ${r.requests.total} answered, ${r.requests.refused} refused while the server was down, ${r.requests.cutOff} writes cut off by a server kill (not retried), GET p50 ${r.requests.getP50Ms.toFixed(1)} ms p99 ${r.requests.getP99Ms.toFixed(1)} ms`,
    ...Object.entries(r.failedReasons).map(([reason, n]) => `failed ×${n}: ${reason}`),
    ...Object.entries(r.jobErrors).map(([e, n]) => `job last error ×${n}: ${e}`),
    ...list("lost", r.lost),
    ...list("stuck", r.stuck),
    ...list("partial", r.partial),
    ...list("double completions", r.double),
    ...list("missing events", r.missingEvents),
    ...list("5xx", r.errors5xx),
    ...list("unexpected answers", r.unexpected),
    ...list("staging leftovers after the sweep", r.leftovers),
    ...list("composes written though not acknowledged", r.unacknowledged),
    ...list("failed for space without saying so", r.unclearDisk),
    ...list("not done once space was back", r.notRecovered),
    `targets: lost ${r.lost.length}/0, stuck ${r.stuck.length}/0, partial ${r.partial.length}/0, double completions ${r.double.length}/0, missing events ${r.missingEvents.length}/0, 5xx ${r.requests.status5xx}/0, unexpected answers ${r.unexpected.length}/0, leftovers ${r.leftovers.length}/0, unacknowledged ${r.unacknowledged.length}/0${r.disk ? `, unclear space failures ${r.unclearDisk.length}/0, not recovered ${r.notRecovered.length}/0` : ""} — ${meetsTargets(r) ? "PASS" : "FAIL"}`,
  ].join("\n");
}

/** The chaos's actions taken (its idle draws not counted). */
function chaosActionCount(c: Pick<SoakReport["chaos"], "workerKills" | "serverKills" | "stops">) {
  return c.workerKills + c.serverKills + c.stops;
}

/** The chaos's actions and how often they came, against the asked-for mean gap. */
function chaosRate(r: SoakReport): string {
  const n = chaosActionCount(r.chaos);
  return n === 0
    ? "no action"
    : `${n} action${n === 1 ? "" : "s"}, one every ${(r.chaos.seconds / n).toFixed(1)} s`;
}

/** How long the killed processes took to be back (kill to ready), median and longest. */
function restartTimes(r: SoakReport): string {
  const one = (what: string, ms: number[]) =>
    ms.length === 0
      ? []
      : [
          `${what} ${(percentile(ms, 50) / 1000).toFixed(1)} s (longest ${(Math.max(...ms) / 1000).toFixed(1)} s)`,
        ];
  const parts = [
    ...one("server", r.chaos.restartMs.server),
    ...one("worker", r.chaos.restartMs.worker),
  ];
  return parts.length === 0 ? "" : `; back after a kill: ${parts.join(", ")}`;
}

/** The fill-disk figures: fills and time full per disk, failures for space, 503s of the database's disk. */
function diskLines(r: SoakReport): string[] {
  const d = r.disk;
  if (!d) return [];
  const fills = Object.entries(d.fills)
    .map(
      ([disk, f]) =>
        `${disk} disk ${f.fills} fills (${f.aimed} while a compose was generating), full ${f.secondsFull.toFixed(1)} s`,
    )
    .join("; ");
  const n503 = Object.values(d.status503Full).reduce((a, b) => a + b, 0);
  return [
    `disk: ${fills}; ${d.failedForSpace} composes failed for space, ${d.jobsMetFullDisk} jobs last met the full disk; ${n503} requests 503 "the database disk is full" (expected, not 5xx) ${JSON.stringify(d.status503Full)}; after the fills ${d.recovery.done}/${d.recovery.submitted} composes done`,
  ];
}

/** The random crash mode's figures: kills per point, and points armed but never reached. */
function crashLines(r: SoakReport): string[] {
  const entries = Object.entries(r.crashPoints);
  if (!r.options.crashShare) return [];
  const kills = entries.reduce((n, [, c]) => n + c.reached, 0);
  const never = entries.filter(([, c]) => c.reached === 0).map(([p]) => p);
  return [
    `crash points (${((r.options.crashShare ?? 0) * 100).toFixed(0)} % of starts armed): ${kills} kill -9 at the point; reached/armed ${entries.map(([p, c]) => `${p} ${c.reached}/${c.armed}`).join(", ")}`,
    ...(never.length > 0 ? [`crash points never reached: ${never.join(", ")}`] : []),
  ];
}
