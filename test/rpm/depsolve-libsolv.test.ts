/**
 * Differential tests: our closure vs libsolv's (python3-solv) for the same
 * repodata and request, on real fixtures and generated corpora. Requests
 * libsolv cannot solve (it reports problems and installs nothing) and
 * closures where we had to keep a conflicting pair (libsolv backtracks to
 * an older version instead — a documented difference) are not compared
 * set-for-set; every other request must match exactly.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { rangesOverlap } from "../../src/rpm/dep-match.ts";
import type { Repodata } from "../../src/rpm/repodata-read.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { nevraOf, selectPackages } from "../../src/rpm/select.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { generateCorpus } from "../helpers/corpus.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import type { OracleRepo } from "../helpers/libsolv.ts";
import { solveWithLibsolv } from "../helpers/libsolv.ts";

const FIXTURES = FIXTURES_DIR;

function hasConflictPair(pkgs: PackageRecord[]): boolean {
  return pkgs.some((a) =>
    a.conflicts.some((c) =>
      pkgs.some((b) => b !== a && b.provides.some((p) => p.name === c.name && rangesOverlap(p, c))),
    ),
  );
}

/**
 * Returns how many requests matched libsolv exactly and how many were
 * comparable. A comparable request that differs must still be a complete
 * closure (nothing unresolved) containing everything libsolv installs'
 * names: the known difference is the order in which alternatives are
 * decided (libsolv follows its rule order, we follow discovery order), which
 * can make us take an extra provider that a later unit choice made
 * unnecessary.
 */
function compare(repo: Repodata, oracle: OracleRepo, arch: string, requests: string[][]) {
  let compared = 0;
  let exact = 0;
  for (const install of requests) {
    const ours = selectPackages({
      repos: [repo],
      lookaside: [],
      packages: install,
      arch,
      noDeps: false,
      multilibArches: [arch],
      multilibMethods: [],
      sigkeys: null,
      weakDeps: false,
    });
    const theirs = solveWithLibsolv({ arch, repos: [oracle], install });
    const pkgs = ours.packages.map((p) => p.pkg);
    if (theirs.problems.length > 0) {
      // libsolv refuses; we must at least explain why via unresolved or a kept conflict.
      expect(ours.unresolved.length > 0 || hasConflictPair(pkgs), install.join(" ")).toBe(true);
      continue;
    }
    if (hasConflictPair(pkgs)) continue;
    compared++;
    expect(ours.unresolved).toEqual([]);
    const nevras = pkgs.map(nevraOf).sort();
    if (JSON.stringify(nevras) === JSON.stringify(theirs.install)) exact++;
    else {
      const names = new Set(pkgs.map((p) => p.name));
      const missing = theirs.install.filter((n) => !names.has(n.replace(/-[^-]+-[^-]+$/, "")));
      expect({ install, missing }).toEqual({ install, missing: [] });
    }
  }
  return { compared, exact };
}

function repodataFiles(dir: string): OracleRepo {
  const files = readdirSync(join(dir, "repodata"));
  const find = (t: string) => files.find((f) => f.includes(`${t}.xml`));
  const primary = find("primary");
  const filelists = find("filelists");
  if (!primary) throw new Error(`${dir}: no primary`);
  return {
    primary: join(dir, "repodata", primary),
    filelists: filelists ? join(dir, "repodata", filelists) : null,
  };
}

function sampleRequests(repo: Repodata, count: number): string[][] {
  const names = [
    ...new Set(repo.packages.filter((p) => p.arch !== "src").map((p) => p.name)),
  ].sort();
  const out: string[][] = [];
  for (let i = 0; i < count; i++) out.push([names[(i * 7919) % names.length] ?? ""]);
  out.push(names.slice(0, 40));
  return out;
}

describe("closure matches libsolv on real repodata", () => {
  const cases: [string, string][] = [
    ["large-repodata/centos-stream-9-baseos-x86_64-2022-02", "x86_64"],
    ["large-repodata/centos-7-x86_64-i686-docker-offline-bundle", "x86_64"],
    ["large-repodata/tizen-2.4-samsung-serranove-armv7l", "armv7l"],
    ["repos/libdnf-dnf-ci-fedora", "x86_64"],
  ];
  test.each(cases)("%s", async (rel, arch) => {
    const dir = join(FIXTURES, rel);
    const repo = await readRepodata((p) => readFile(join(dir, p)), { filelists: true });
    const { compared, exact } = compare(repo, repodataFiles(dir), arch, sampleRequests(repo, 12));
    expect(compared).toBeGreaterThan(0);
    expect(exact).toBe(compared);
  });

  test("bash dnf systemd on CentOS Stream 9 BaseOS (langpack choice follows Suggests)", async () => {
    const dir = join(FIXTURES, "large-repodata/centos-stream-9-baseos-x86_64-2022-02");
    const repo = await readRepodata((p) => readFile(join(dir, p)), { filelists: true });
    expect(compare(repo, repodataFiles(dir), "x86_64", [["bash", "dnf", "systemd"]])).toEqual({
      compared: 1,
      exact: 1,
    });
  });
});

describe("closure matches libsolv on generated corpora", () => {
  test.each([1, 2, 3, 4])("seed %i", async (seed) => {
    const corpus = generateCorpus({ packages: 400, seed, brokenRate: 0 });
    const dir = mkdtempSync(join(tmpdir(), "odcs-corpus-"));
    mkdirSync(join(dir, "repodata"));
    const files: Record<string, string> = {
      "repodata/repomd.xml": corpus.repomdXml,
      "repodata/primary.xml": corpus.primaryXml,
      "repodata/filelists.xml": corpus.filelistsXml,
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const repo = await readRepodata((p) => readFile(join(dir, p)), { filelists: true });
    const requests = Array.from({ length: 12 }, (_, q) => [
      corpus.names[(seed * 31 + q * 17) % corpus.names.length] ?? "",
      corpus.names[(q * 7 + 3) % corpus.names.length] ?? "",
    ]);
    const { compared, exact } = compare(
      repo,
      {
        primary: join(dir, "repodata/primary.xml"),
        filelists: join(dir, "repodata/filelists.xml"),
      },
      "x86_64",
      requests,
    );
    expect(compared).toBeGreaterThanOrEqual(8);
    expect(exact / compared).toBeGreaterThanOrEqual(0.6);
  });
});
