/**
 * RPM engine benchmark (not a test): metadata load + depsolve + memory on a
 * generated 10 000-package corpus and on the largest real metadata in the
 * fixtures (CentOS Stream 9 AppStream, with the BaseOS it depends on), side
 * by side with libsolv on the same input and request. The request is the
 * first 200 names (spread over the sorted names) libsolv can install
 * together, so both solvers answer a request that has a solution; libsolv's
 * pool is set up like dnf's on Fedora/RHEL with our arch list.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readRepodata } from "../src/rpm/repodata-read.ts";
import { selectPackages } from "../src/rpm/select.ts";
import { nativeArches } from "../src/rpm/tree-arches.ts";
import { generateCorpus } from "../test/helpers/corpus.ts";
import { FIXTURES_DIR } from "../test/helpers/fixtures.ts";

const LIBSOLV = fileURLToPath(new URL("./libsolv-bench.py", import.meta.url));
const BASEOS = `${FIXTURES_DIR}/large-repodata/centos-stream-9-baseos-x86_64-2022-02`;
const APPSTREAM = `${FIXTURES_DIR}/large-repodata/centos-stream-9-appstream-x86_64-2025-01`;
const REQUEST_NAMES = 200;
const WARMUP = 10;
const WARM_RUNS = 30;
const ROUNDS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

interface RepoFiles {
  dir: string;
  primary: string;
  filelists: string | null;
}

interface Case {
  label: string;
  repos: RepoFiles[];
}

function corpusCase(): Case {
  const c = generateCorpus({ packages: 10_000, seed: 42 });
  const dir = mkdtempSync(join(tmpdir(), "odcs-bench-"));
  mkdirSync(join(dir, "repodata"));
  writeFileSync(join(dir, "repodata/repomd.xml"), c.repomdXml);
  writeFileSync(join(dir, "repodata/primary.xml"), c.primaryXml);
  writeFileSync(join(dir, "repodata/filelists.xml"), c.filelistsXml);
  return {
    label: "synthetic 10k (primary+filelists)",
    repos: [
      {
        dir,
        primary: join(dir, "repodata/primary.xml"),
        filelists: join(dir, "repodata/filelists.xml"),
      },
    ],
  };
}

function fixtureRepo(dir: string, withFilelists: boolean): RepoFiles {
  const files = readdirSync(join(dir, "repodata"));
  const find = (t: string) => files.find((f) => f.includes(`${t}.xml`));
  const filelists = withFilelists ? find("filelists") : undefined;
  return {
    dir,
    primary: join(dir, "repodata", find("primary") ?? ""),
    filelists: filelists ? join(dir, "repodata", filelists) : null,
  };
}

function largeCase(): Case {
  return {
    label: "CentOS Stream 9 BaseOS 2022 (+filelists) + AppStream 2025 (17 649 pkgs, primary)",
    repos: [fixtureRepo(BASEOS, true), fixtureRepo(APPSTREAM, false)],
  };
}

/** All names, every k-th first (k spreads 200 over the range), then the ones after those … */
function candidates(names: string[]): string[] {
  const stride = Math.max(1, Math.floor(names.length / REQUEST_NAMES));
  const out: string[] = [];
  for (let r = 0; r < stride; r++)
    for (let i = r; i < names.length; i += stride) out.push(names[i] ?? "");
  return out;
}

interface LibsolvRun {
  loadMs: number;
  solveMs: number;
  cacheLoadMs: number;
  warmSolveMs: number;
  warmRuns: number;
  installed: number;
  problems: number;
  peakRssMb: number;
  request: string[];
}

/** One libsolv run; without `request` it first picks one from `candidates` (see libsolv-bench.py). */
function libsolvRun(c: Case, request: string[] | null, candidates: string[]): LibsolvRun {
  const lib = spawnSync("/usr/bin/python3", [LIBSOLV], {
    input: JSON.stringify({
      arch: "x86_64",
      arches: nativeArches("x86_64"),
      repos: c.repos.map((r) => ({ primary: r.primary, filelists: r.filelists })),
      candidates: request ?? candidates,
      count: REQUEST_NAMES,
      given: request !== null,
    }),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (lib.status !== 0) throw new Error(lib.stderr);
  return JSON.parse(lib.stdout) as LibsolvRun;
}

async function loadRepos(c: Case) {
  const repos = [];
  for (const r of c.repos) {
    repos.push(
      await readRepodata(async (p) => readFileSync(join(r.dir, p)), {
        filelists: r.filelists !== null,
      }),
    );
  }
  return repos;
}

/** One of our runs: fresh load (so nothing is cached), cold solve, warm solves. */
async function oursRun(c: Case, request: string[]) {
  const t0 = performance.now();
  const repos = await loadRepos(c);
  const t1 = performance.now();
  const input = {
    repos,
    lookaside: [],
    packages: request,
    arch: "x86_64",
    noDeps: false,
    multilibArches: [],
    multilibMethods: [],
    sigkeys: null,
    weakDeps: false,
  };
  const cold = selectPackages(input);
  const t2 = performance.now();
  // Warm: caches filled and the JIT warmed up (WARMUP runs), then the median of WARM_RUNS.
  for (let i = 0; i < WARMUP; i++) selectPackages(input);
  const runs: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const t = performance.now();
    selectPackages(input);
    runs.push(performance.now() - t);
  }
  return {
    load: t1 - t0,
    solve: t2 - t1,
    warm: median(runs),
    selected: cold.packages.length,
    unresolved: cold.unresolved.length,
    total: repos.reduce((n, r) => n + r.packages.length, 0),
    rss: process.memoryUsage().rss / 1024 / 1024,
  };
}

/**
 * ROUNDS rounds, ours and libsolv's interleaved so load on the shared host
 * hits both alike; each figure is the median over the rounds.
 */
async function run(c: Case): Promise<void> {
  const names = [
    ...new Set(
      (await loadRepos(c)).flatMap((r) =>
        r.packages.filter((p) => p.arch !== "src").map((p) => p.name),
      ),
    ),
  ].sort();
  const first = libsolvRun(c, null, candidates(names));
  const request = first.request;
  const libs = [first];
  const ours = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await oursRun(c, request));
    if (round > 0) libs.push(libsolvRun(c, request, []));
  }
  const med = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
  const o = {
    load: med(ours, (x) => x.load),
    solve: med(ours, (x) => x.solve),
    warm: med(ours, (x) => x.warm),
  };
  const l = {
    load: med(libs, (x) => x.loadMs),
    solve: med(libs, (x) => x.solveMs),
    cacheLoad: med(libs, (x) => x.cacheLoadMs),
    warm: med(libs, (x) => x.warmSolveMs),
  };
  const last = ours[ours.length - 1];
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  console.log(
    `\n## ${c.label}: ${last?.total} packages, request ${request.length} names (medians of ${ROUNDS} rounds)`,
  );
  console.log(
    `  ours:    load ${fmt(o.load)}  solve(cold, incl. index) ${fmt(o.solve)}  warm solve ${fmt(o.warm)} (median of ${WARM_RUNS})  selected ${last?.selected} (unresolved ${last?.unresolved})  rss ${last?.rss.toFixed(0)} MB`,
  );
  console.log(
    `  libsolv: load ${fmt(l.load)}  solve ${fmt(l.solve)}  warm(.solv) load ${fmt(l.cacheLoad)} solve ${fmt(l.warm)} (median of ${first.warmRuns})  installed ${first.installed} (problems ${first.problems})  peak rss ${first.peakRssMb.toFixed(0)} MB`,
  );
  console.log(
    `  ratio cold load+solve ${((o.load + o.solve) / (l.load + l.solve)).toFixed(2)}x   warm solve ${(o.warm / l.warm).toFixed(2)}x`,
  );
  const f = ours[0];
  if (f) {
    console.log(
      `  (first round of this case, fresh process state for its data: ours load ${fmt(f.load)} solve ${fmt(f.solve)}, ratio ${((f.load + f.solve) / (l.load + l.solve)).toFixed(2)}x)`,
    );
  }
}

export async function benchRpm(): Promise<void> {
  await run(corpusCase());
  await run(largeCase());
}
