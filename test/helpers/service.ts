/**
 * Running the service for tests, two ways:
 *
 * - `composeHarness()`: in-process — the real API app over a fresh libSQL
 *   file, a fake clock, a temp target dir, and real `Worker`s driven with
 *   `fill()`/`idle()` (no polling, no timers to wait for).
 * - `startService()`: the real entry point (`src/main.ts` under tsx, or
 *   `src/server.ts` / `src/worker.ts`) as a child process on a free loopback
 *   port with a temp data dir; resolves once it answers HTTP (bounded wait),
 *   `stop()` sends SIGTERM and waits for the exit (SIGKILL after a bound).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Client, createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll } from "vitest";
import { type Logger, silentLogger } from "../../src/api/deps.ts";
import type { Config } from "../../src/config.ts";
import { BUSY_TIMEOUT_MS, createDb, type Db } from "../../src/db/client.ts";
import { listComposeRpms } from "../../src/db/compose-rpms.ts";
import { type ComposeRow, composes, type JobRow, jobs } from "../../src/db/schema.ts";
import { Worker, type WorkerOptions } from "../../src/worker/loop.ts";
import { tempDir } from "./db.ts";
import { FIXTURES_DIR } from "./fixtures.ts";
import { testApp, testConfig } from "./test-app.ts";
import { waitFor } from "./wait.ts";

const execFileP = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, "../..");
export const LIBDNF_REPO = `${FIXTURES_DIR}/repos/libdnf-dnf-ci-fedora`;

/** The ODCS JSON of a compose (the fields tests look at). */
export interface ComposeJson {
  id: number;
  state: number;
  state_name: string;
  state_reason: string | null;
  result_repofile: string;
  result_repo: string;
  toplevel_url: string;
  [k: string]: unknown;
}

/**
 * In-process service: API app + fake clock + temp target dir + workers.
 * `config` overrides apply to both the API and the workers.
 */
export async function composeHarness(config: Record<string, unknown> = {}) {
  const target = tempDir("odcs-target-");
  const settings = { ODCS_TARGET_DIR: target, ...config };
  const t = await testApp({ config: settings });
  const workers: Worker[] = [];
  const clients: Client[] = [];
  /** A worker over the harness DB (or `opts.db`, e.g. a separate connection to the same file). */
  const newWorker = (
    workerId = `w${workers.length + 1}`,
    opts: {
      config?: Record<string, unknown>;
      db?: Db;
      log?: Logger;
      at?: WorkerOptions["at"];
    } = {},
  ) => {
    const w = new Worker({
      db: opts.db ?? t.db,
      config: opts.config ? testConfig({ ...settings, ...opts.config }) : t.deps.config,
      now: () => t.clock.now(),
      log: opts.log ?? silentLogger,
      workerId,
      ...(opts.at ? { at: opts.at } : {}),
    });
    workers.push(w);
    return w;
  };
  /** Another connection to the harness database file. */
  const connect = (): Db => {
    const client = createClient({ url: t.dbUrl, timeout: BUSY_TIMEOUT_MS });
    clients.push(client);
    return createDb(client);
  };
  const create = async (body: Record<string, unknown>): Promise<ComposeJson> => {
    const res = await t.postJson("/api/1/composes/", body);
    const json = (await res.json()) as ComposeJson;
    if (res.status !== 200) throw new Error(`POST answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const get = async (id: number): Promise<ComposeJson> => {
    const res = await t.request(`/api/1/composes/${id}`);
    return (await res.json()) as ComposeJson;
  };
  const row = async (id: number): Promise<ComposeRow> => {
    const [r] = await t.db.select().from(composes).where(eq(composes.id, id));
    if (!r) throw new Error(`no compose ${id}`);
    return r;
  };
  const jobOf = async (id: number): Promise<JobRow> => {
    const [j] = await t.db.select().from(jobs).where(eq(jobs.composeId, id));
    if (!j) throw new Error(`no job for compose ${id}`);
    return j;
  };
  let defaultWorker: Worker | undefined;
  /** Create a compose and run the queue to quiescence on one worker; returns the final row. */
  const run = async (body: Record<string, unknown>): Promise<ComposeRow> => {
    const c = await create(body);
    defaultWorker ??= newWorker("runner");
    while ((await defaultWorker.fill()) > 0) await defaultWorker.idle();
    return row(c.id);
  };
  const dir = (id: number) => join(target, `odcs-${id}`);
  const rpms = (id: number) => listComposeRpms(t.db, id);
  /** Stop every worker (aborting running jobs) and close extra connections. */
  const stopAll = async () => {
    await Promise.all(workers.map((w) => w.stop(0)));
    for (const c of clients) c.close();
  };
  return {
    ...t,
    target,
    config: t.deps.config as Config,
    newWorker,
    connect,
    create,
    get,
    row,
    jobOf,
    run,
    dir,
    rpms,
    stopAll,
  };
}

/** A free loopback TCP port (bound and released; the service binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Base URL, e.g. http://127.0.0.1:40123 (only for processes that serve HTTP). */
  url: string;
  dataDir: string;
  targetDir: string;
  dbUrl: string;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`); resolves to the exit code. */
  stop: (timeoutMs?: number) => Promise<number | null>;
  /** SIGKILL and wait for the exit. */
  kill: () => Promise<void>;
  exited: Promise<number | null>;
}

export interface StartOptions {
  /** Entry point relative to the repo root; default `src/main.ts`. */
  entry?: string;
  /**
   * Run this instead of `node --import tsx <entry>` (e.g. `["node",
   * "bin/odcs-server.js"]` or `["npm", "run", "server"]`), in a process group
   * of its own that `stop`/`kill` signal as a whole.
   */
  command?: readonly string[];
  /** Node options after `--import tsx`, before the entry (e.g. `--import` of a test preload module). */
  nodeArgs?: readonly string[];
  /** Share a data dir (and so the DB file and target dir) with another process. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Wait for HTTP (`/api/1/about/`); default true unless the entry is the worker. */
  http?: boolean;
  /** Port to serve on (e.g. one a redirect URI was registered for); default a free one. */
  port?: number;
  /** Bound for the start (ms); default 20 000. */
  timeoutMs?: number;
  /** For non-HTTP processes: resolve once the output contains this. */
  readyText?: string;
}

/** SIGKILL of every child still running, when the test process exits. */
const live = new Set<() => void>();
process.once("exit", () => {
  for (const kill of live) kill();
});

/**
 * The real server (`src/server.ts`: API and sweep, no worker) for the tests
 * of one describe block: started in its `beforeAll`, stopped in its
 * `afterAll`. Call the returned function in a test for the running process.
 */
export function serverForSuite(opts: StartOptions = {}): () => ServiceProcess {
  let svc: ServiceProcess | undefined;
  beforeAll(async () => {
    svc = await startService({ entry: "src/server.ts", timeoutMs: 60_000, ...opts });
  }, 90_000);
  afterAll(async () => {
    await svc?.stop();
  });
  return () => {
    if (!svc) throw new Error("the server did not start (see the beforeAll's error)");
    return svc;
  };
}

/** Start an entry point of the service as a child process (see the file comment). */
export async function startService(opts: StartOptions = {}): Promise<ServiceProcess> {
  const entry = opts.entry ?? opts.command?.join(" ") ?? "src/main.ts";
  const http = opts.http ?? !entry.includes("worker");
  const dataDir = opts.dataDir ?? tempDir("odcs-svc-");
  const targetDir = join(dataDir, "composes");
  const dbUrl = `file:${join(dataDir, "odcs.db")}`;
  const port = http ? (opts.port ?? (await freePort())) : 0;
  const url = `http://127.0.0.1:${port}`;
  // `node --import tsx` rather than the tsx binary: one process, so SIGKILL
  // really kills the service (the tsx CLI would leave its node child running).
  const [file, ...args] = opts.command ?? [
    process.execPath,
    "--import",
    "tsx",
    ...(opts.nodeArgs ?? []),
    join(ROOT, entry),
  ];
  const group = opts.command !== undefined;
  const signal = (sig: NodeJS.Signals) => {
    if (group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    } else child.kill(sig);
  };
  const child = spawn(file as string, args, {
    cwd: ROOT,
    detached: group,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      ODCS_DATABASE_URL: dbUrl,
      ODCS_TARGET_DIR: targetDir,
      ODCS_UPLOAD_DIR: join(dataDir, "uploads"),
      ODCS_TARGET_DIR_URL: `${url}/composes`,
      ODCS_WORKER_POLL_MS: "50",
      ODCS_LOG_LEVEL: "info",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killNow = () => signal("SIGKILL");
  live.add(killNow);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  // A group (npm → sh → tsx → node) is over when the last holder of its
  // stdout has exited, not when its leader has.
  const exited = new Promise<number | null>((res) => {
    child.once(group ? "close" : "exit", (code) => {
      live.delete(killNow);
      res(code);
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const stop = async (timeoutMs = 15_000) => {
    if (hasExited) return exited;
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const kill = async () => {
    if (!hasExited) signal("SIGKILL");
    await exited;
  };
  const svc: ServiceProcess = {
    child,
    url,
    dataDir,
    targetDir,
    dbUrl,
    output: () => out,
    stop,
    kill,
    exited,
  };
  try {
    await waitFor(
      async () => {
        if (hasExited) throw new Error(`exited early:\n${out}`);
        if (!http) return opts.readyText ? out.includes(opts.readyText) : true;
        const res = await fetch(`${url}/api/1/about/`).catch(() => undefined);
        return res?.ok === true;
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, intervalMs: 25, what: `${entry} to start` },
    );
  } catch (err) {
    await kill();
    throw new Error(`${(err as Error).message}\noutput:\n${out}`);
  }
  return svc;
}

/** Read a file if it exists (for assertions on logs written by other processes). */
/** POST a compose to a running service; throws (with the body) unless it answers 200. */
export async function postCompose(
  url: string,
  body: Record<string, unknown>,
): Promise<ComposeJson> {
  const res = await fetch(`${url}/api/1/composes/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as ComposeJson;
  if (res.status !== 200) throw new Error(`POST ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/**
 * The real dnf, isolated from the host, configured only by a `.repo` file
 * (as a user of a compose would be): `--setopt=reposdir` names a dir holding
 * just that file, the installroot starts empty. `rewrite` maps the baseurl
 * prefix (e.g. the public URL to a `file://` path) when the compose is not
 * served over HTTP. Returns the NEVRAs installed (`name-epoch:version-release.arch`), sorted.
 */
export async function dnfInstallWithRepoFile(
  repoText: string,
  specs: readonly string[],
  opts: { rewrite?: [string, string]; arch?: string; setopt?: readonly string[] } = {},
): Promise<string[]> {
  const scratch = tempDir("odcs-dnf-");
  const reposdir = join(scratch, "repos.d");
  await mkdir(reposdir);
  const text = opts.rewrite ? repoText.split(opts.rewrite[0]).join(opts.rewrite[1]) : repoText;
  await writeFile(join(reposdir, "compose.repo"), text);
  await writeFile(join(scratch, "dnf.conf"), "[main]\n");
  const root = join(scratch, "root");
  try {
    await execFileP(
      "dnf",
      [
        "-q",
        "-y",
        `--config=${join(scratch, "dnf.conf")}`,
        "--disableplugin=*",
        `--setopt=reposdir=${reposdir}`,
        `--setopt=cachedir=${join(scratch, "cache")}`,
        `--installroot=${root}`,
        `--forcearch=${opts.arch ?? "x86_64"}`,
        "--releasever=29",
        ...(opts.setopt ?? []).map((o) => `--setopt=${o}`),
        "install",
        ...specs,
      ],
      { maxBuffer: 64 << 20 },
    );
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`dnf install ${specs.join(" ")} failed: ${e.stderr ?? String(err)}`);
  }
  const { stdout } = await execFileP("rpm", [
    "--root",
    root,
    "-qa",
    "--qf",
    "%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n",
  ]);
  return stdout
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("gpg-pubkey"))
    .sort();
}

/**
 * A static HTTP server of a directory (a yum repo) on a free loopback port,
 * with a hook per request: `hold(path)` makes matching requests wait until
 * `release()` (to catch a worker mid-compose), `fail` answers a status
 * instead. `requests` lists the paths asked for, in order.
 */
export async function repoServer(dir: string) {
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let holdRe: RegExp | undefined;
  let holdLeft = 0;
  let holdSkip = 0;
  let held = 0;
  let failWith: { re: RegExp; status: number } | undefined;
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    const answer = async () => {
      if (holdRe?.test(path) && gate && holdSkip > 0) holdSkip--;
      else if (holdRe?.test(path) && gate && holdLeft > 0) {
        holdLeft--;
        held++;
        await gate.promise;
      }
      if (failWith?.re.test(path)) {
        res.writeHead(failWith.status).end();
        return;
      }
      const file = join(dir, path);
      if (!file.startsWith(dir) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(await readFile(file));
    };
    answer().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  return {
    url,
    requests,
    /** How many requests have been held so far. */
    get held() {
      return held;
    },
    /** The next `count` requests matching `re` (after `skip` answered at once) wait until `release()`. */
    hold(re: RegExp, count = Number.POSITIVE_INFINITY, skip = 0) {
      holdLeft = count;
      holdSkip = skip;
      let open = () => {};
      const promise = new Promise<void>((r) => {
        open = r;
      });
      gate = { promise, open };
      holdRe = re;
    },
    release() {
      gate?.open();
      holdRe = undefined;
    },
    /** Answer `status` to requests matching `re` (undefined: stop failing). */
    fail(re: RegExp | undefined, status = 503) {
      failWith = re ? { re, status } : undefined;
    },
    close: () =>
      new Promise<void>((r) => {
        gate?.open();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
