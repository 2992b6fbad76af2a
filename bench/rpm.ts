/**
 * RPM engine benchmark (not a test): metadata load + depsolve + memory on a
 * generated 10 000-package corpus and on the largest real primary in the
 * fixtures, side by side with libsolv on the same input and request.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readRepodata } from "../src/rpm/repodata-read.ts";
import { selectPackages } from "../src/rpm/select.ts";
import { generateCorpus } from "../test/helpers/corpus.ts";
import { FIXTURES_DIR } from "../test/helpers/fixtures.ts";

const LIBSOLV = fileURLToPath(new URL("./libsolv-bench.py", import.meta.url));
const LARGE = `${FIXTURES_DIR}/large-repodata/centos-stream-9-appstream-x86_64-2025-01`;

interface Case {
  label: string;
  dir: string;
  primary: string;
  filelists: string | null;
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
    dir,
    primary: join(dir, "repodata/primary.xml"),
    filelists: join(dir, "repodata/filelists.xml"),
  };
}

function largeCase(): Case {
  const primary = readdirSync(join(LARGE, "repodata")).find((f) => f.endsWith("primary.xml.gz"));
  return {
    label: "CentOS Stream 9 AppStream (17 649 pkgs, primary only)",
    dir: LARGE,
    primary: join(LARGE, "repodata", primary ?? ""),
    filelists: null,
  };
}

async function run(c: Case): Promise<void> {
  const t0 = performance.now();
  const repo = await readRepodata(async (p) => readFileSync(join(c.dir, p)), {
    filelists: c.filelists !== null,
  });
  const t1 = performance.now();
  const names = [
    ...new Set(repo.packages.filter((p) => p.arch !== "src").map((p) => p.name)),
  ].sort();
  const request = names
    .filter((_, i) => i % Math.max(1, Math.floor(names.length / 200)) === 0)
    .slice(0, 200);
  const input = {
    repos: [repo],
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
  const warmRuns = 5;
  for (let i = 0; i < warmRuns; i++) selectPackages(input);
  const t3 = performance.now();
  const rss = process.memoryUsage().rss / 1024 / 1024;
  const lib = spawnSync("/usr/bin/python3", [LIBSOLV], {
    input: JSON.stringify({
      arch: "x86_64",
      primary: c.primary,
      filelists: c.filelists,
      install: request,
    }),
    encoding: "utf8",
  });
  if (lib.status !== 0) throw new Error(lib.stderr);
  const l = JSON.parse(lib.stdout) as Record<string, number>;
  const ours = { load: t1 - t0, solve: t2 - t1, warm: (t3 - t2) / warmRuns };
  const libCold = (l.loadMs ?? 0) + (l.solveMs ?? 0);
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`\n## ${c.label}: ${repo.packages.length} packages, request ${request.length} names`);
  console.log(
    `  ours:    load ${fmt(ours.load)}  solve(cold, incl. index) ${fmt(ours.solve)}  warm solve ${fmt(ours.warm)}  selected ${cold.packages.length}  rss ${rss.toFixed(0)} MB`,
  );
  console.log(
    `  libsolv: load ${fmt(l.loadMs ?? 0)}  solve ${fmt(l.solveMs ?? 0)}  warm(.solv) load ${fmt(l.cacheLoadMs ?? 0)} solve ${fmt(l.warmSolveMs ?? 0)}  installed ${l.installed}  peak rss ${(l.peakRssMb ?? 0).toFixed(0)} MB`,
  );
  console.log(
    `  ratio cold load+solve ${((ours.load + ours.solve) / libCold).toFixed(2)}x   warm solve ${(ours.warm / (l.warmSolveMs ?? 1)).toFixed(2)}x`,
  );
}

export async function benchRpm(): Promise<void> {
  await run(corpusCase());
  await run(largeCase());
}
