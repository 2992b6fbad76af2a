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

async function run(c: Case): Promise<void> {
  const t0 = performance.now();
  const repos = [];
  for (const r of c.repos) {
    repos.push(
      await readRepodata(async (p) => readFileSync(join(r.dir, p)), {
        filelists: r.filelists !== null,
      }),
    );
  }
  const t1 = performance.now();
  const names = [
    ...new Set(repos.flatMap((r) => r.packages.filter((p) => p.arch !== "src").map((p) => p.name))),
  ].sort();
  const lib = spawnSync("/usr/bin/python3", [LIBSOLV], {
    input: JSON.stringify({
      arch: "x86_64",
      arches: nativeArches("x86_64"),
      repos: c.repos.map((r) => ({ primary: r.primary, filelists: r.filelists })),
      candidates: candidates(names),
      count: REQUEST_NAMES,
    }),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (lib.status !== 0) throw new Error(lib.stderr);
  const l = JSON.parse(lib.stdout) as Record<string, number> & { request: string[] };
  const input = {
    repos,
    lookaside: [],
    packages: l.request,
    arch: "x86_64",
    noDeps: false,
    multilibArches: [],
    multilibMethods: [],
    sigkeys: null,
    weakDeps: false,
  };
  const t2 = performance.now();
  const cold = selectPackages(input);
  const t3 = performance.now();
  const warmRuns = 20;
  for (let i = 0; i < warmRuns; i++) selectPackages(input);
  const t4 = performance.now();
  const rss = process.memoryUsage().rss / 1024 / 1024;
  const ours = { load: t1 - t0, solve: t3 - t2, warm: (t4 - t3) / warmRuns };
  const libCold = (l.loadMs ?? 0) + (l.solveMs ?? 0);
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  const total = repos.reduce((n, r) => n + r.packages.length, 0);
  console.log(`\n## ${c.label}: ${total} packages, request ${l.request.length} names`);
  console.log(
    `  ours:    load ${fmt(ours.load)}  solve(cold, incl. index) ${fmt(ours.solve)}  warm solve ${fmt(ours.warm)}  selected ${cold.packages.length} (unresolved ${cold.unresolved.length})  rss ${rss.toFixed(0)} MB`,
  );
  console.log(
    `  libsolv: load ${fmt(l.loadMs ?? 0)}  solve ${fmt(l.solveMs ?? 0)}  warm(.solv) load ${fmt(l.cacheLoadMs ?? 0)} solve ${fmt(l.warmSolveMs ?? 0)}  installed ${l.installed} (problems ${l.problems})  peak rss ${(l.peakRssMb ?? 0).toFixed(0)} MB`,
  );
  console.log(
    `  ratio cold load+solve ${((ours.load + ours.solve) / libCold).toFixed(2)}x   warm solve ${(ours.warm / (l.warmSolveMs ?? 1)).toFixed(2)}x`,
  );
}

export async function benchRpm(): Promise<void> {
  await run(corpusCase());
  await run(largeCase());
}
