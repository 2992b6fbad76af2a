/**
 * Differential tests: our closure vs libsolv's (python3-solv, pool set up
 * like dnf's on Fedora/RHEL, same installable arches) for the same repodata
 * and requests, on real fixtures and on generated corpora of several shapes.
 *
 * Every request libsolv solves must give exactly libsolv's NEVRA set. A
 * request libsolv cannot solve (it reports a problem) we still answer — a
 * compose keeps every requested package (see depsolve.ts) — so there we
 * check that each request item is in our set and that libsolv, asked to
 * install exactly our set, finds it broken too.
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { Closure } from "../../src/rpm/depsolve.ts";
import { PackagePool } from "../../src/rpm/package-pool.ts";
import type { Repodata } from "../../src/rpm/repodata-read.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { nevraOf, selectPackages } from "../../src/rpm/select.ts";
import { multilibArchesOf, nativeArches } from "../../src/rpm/tree-arches.ts";
import type { CorpusShape } from "../helpers/corpus.ts";
import { generateCorpus, prng, writeRepodata } from "../helpers/corpus.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import type { OracleRepo } from "../helpers/libsolv.ts";
import { solveManyWithLibsolv } from "../helpers/libsolv.ts";

interface Setup {
  repos: Repodata[];
  oracle: OracleRepo[];
  arch: string;
  /** Pool arches; default the tree arch's native ones (a compose without multilib). */
  arches?: string[];
  /** Follow Recommends on both sides. */
  recommends?: boolean;
  /** Solve with `Closure` directly, installing Supplements like libsolv (needs `recommends`). */
  supplements?: boolean;
}

interface Outcome {
  compared: number;
  exact: number;
  problems: number;
  mismatches: { install: string[]; oursOnly: string[]; libsolvOnly: string[] }[];
}

/** Our selection for one request, through `selectPackages` or, for pool options it lacks, `Closure`. */
function ours(s: Setup, install: string[]): string[] {
  if (!s.arches && !s.supplements) {
    const r = selectPackages({
      repos: s.repos,
      lookaside: [],
      packages: install,
      arch: s.arch,
      noDeps: false,
      multilibArches: [s.arch],
      multilibMethods: [],
      sigkeys: null,
      weakDeps: s.recommends ?? false,
    });
    expect(r.missing).toEqual([]);
    return r.packages.map((p) => nevraOf(p.pkg)).sort();
  }
  const pool = new PackagePool(s.repos, [], { arches: s.arches ?? nativeArches(s.arch) });
  const closure = new Closure(pool, {
    followRecommends: s.recommends ?? false,
    followSupplements: s.supplements ?? false,
  });
  for (const name of install) closure.request(pool.byName(name));
  closure.run();
  return closure.order.map((k) => nevraOf(pool.pkg(k))).sort();
}

function compare(s: Setup, requests: string[][]): Outcome {
  const pool = {
    arch: s.arch,
    arches: s.arches ?? nativeArches(s.arch),
    repos: s.oracle,
    recommends: s.recommends ?? false,
  };
  const theirs = solveManyWithLibsolv(pool, requests);
  const out: Outcome = { compared: 0, exact: 0, problems: 0, mismatches: [] };
  const unsolvable: { install: string[]; nevras: string[] }[] = [];
  requests.forEach((install, i) => {
    const t = theirs[i];
    if (!t) throw new Error("oracle returned too few results");
    const nevras = ours(s, install);
    if (t.problems.length > 0) {
      out.problems++;
      unsolvable.push({ install, nevras });
      return;
    }
    out.compared++;
    if (JSON.stringify(nevras) === JSON.stringify(t.install)) out.exact++;
    else {
      const a = new Set(nevras);
      const b = new Set(t.install);
      out.mismatches.push({
        install,
        oursOnly: nevras.filter((n) => !b.has(n)),
        libsolvOnly: t.install.filter((n) => !a.has(n)),
      });
    }
  });
  if (unsolvable.length > 0) {
    const verdicts = solveManyWithLibsolv(
      { ...pool, recommends: false },
      unsolvable.map((u) => ({ verify: u.nevras })),
    );
    unsolvable.forEach((u, i) => {
      const names = new Set(u.nevras.map((n) => n.replace(/-[^-]+-[^-]+$/, "")));
      expect(
        u.install.filter((n) => !names.has(n)),
        u.install.join(" "),
      ).toEqual([]);
      expect(
        verdicts[i]?.problems.length,
        `libsolv accepts ${u.install.join(" ")}`,
      ).toBeGreaterThan(0);
    });
  }
  return out;
}

function expectExact(o: Outcome, minCompared: number): void {
  expect(o.mismatches).toEqual([]);
  expect(o.exact).toBe(o.compared);
  expect(o.compared).toBeGreaterThanOrEqual(minCompared);
}

async function fixture(rel: string, filelists: boolean) {
  const dir = join(FIXTURES_DIR, rel);
  const files = readdirSync(join(dir, "repodata"));
  const find = (t: string) => files.find((f) => f.includes(`${t}.xml`));
  const primary = find("primary");
  if (!primary) throw new Error(`${dir}: no primary`);
  const fl = filelists ? find("filelists") : undefined;
  const repo = await readRepodata((p) => readFile(join(dir, p)), { filelists: fl !== undefined });
  const oracle = {
    primary: join(dir, "repodata", primary),
    filelists: fl ? join(dir, "repodata", fl) : null,
  };
  return { repo, oracle };
}

/** Names of the repo's packages, in repo order. */
function packageNames(repo: Repodata): string[] {
  return [...new Set(repo.packages.map((p) => p.name))];
}

/** `count` requests of `size` names drawn from the repos' binary package names. */
function randomRequests(repos: Repodata[], seed: number, size: number, count: number) {
  const names = [
    ...new Set(repos.flatMap((r) => r.packages.filter((p) => p.arch !== "src").map((p) => p.name))),
  ].sort();
  const rnd = prng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: size }, () => names[Math.floor(rnd() * names.length)] ?? ""),
  );
}

describe("closure matches libsolv on real repodata", () => {
  const cases: [string, string, number][] = [
    ["large-repodata/centos-stream-9-baseos-x86_64-2022-02", "x86_64", 25],
    ["large-repodata/centos-7-x86_64-i686-docker-offline-bundle", "x86_64", 25],
    ["large-repodata/tizen-2.4-samsung-serranove-armv7l", "armv7l", 15],
    ["repos/libdnf-dnf-ci-fedora", "x86_64", 20],
  ];
  test.each(cases)("%s", async (rel, arch, minCompared) => {
    const { repo, oracle } = await fixture(rel, true);
    const requests = [
      ...randomRequests([repo], 5, 1, 15),
      ...randomRequests([repo], 6, 4, 10),
      ...randomRequests([repo], 7, 30, 3),
    ];
    expectExact(compare({ repos: [repo], oracle: [oracle], arch }, requests), minCompared);
  });

  test("bash dnf systemd on CentOS Stream 9 BaseOS (langpack choice follows Suggests)", async () => {
    const { repo, oracle } = await fixture(
      "large-repodata/centos-stream-9-baseos-x86_64-2022-02",
      true,
    );
    const o = compare({ repos: [repo], oracle: [oracle], arch: "x86_64" }, [
      ["bash", "dnf", "systemd"],
    ]);
    expectExact(o, 1);
  });

  describe("CentOS Stream 9 BaseOS + AppStream (two repos, rich deps, weak deps)", () => {
    let loaded: Promise<{ setup: Setup; requests: string[][] }> | undefined;
    const load = () => {
      loaded ??= (async () => {
        const base = await fixture("large-repodata/centos-stream-9-baseos-x86_64-2022-02", true);
        const app = await fixture("large-repodata/centos-stream-9-appstream-x86_64-2025-01", false);
        const setup: Setup = {
          repos: [base.repo, app.repo],
          oracle: [base.oracle, app.oracle],
          arch: "x86_64",
        };
        const requests = [
          ...randomRequests(setup.repos, 9, 1, 25),
          ...randomRequests(setup.repos, 10, 3, 10),
        ];
        return { setup, requests };
      })();
      return loaded;
    };
    test("hard requires", async () => {
      const { setup, requests } = await load();
      expectExact(compare(setup, requests), 20);
    });
    test("with Recommends and Supplements, as libsolv installs them", async () => {
      const { setup, requests } = await load();
      expectExact(compare({ ...setup, recommends: true, supplements: true }, requests), 20);
    });
  });
});

describe("closure matches libsolv on generated corpora", () => {
  const shapes: [string, CorpusShape, number | undefined][] = [
    ["default", {}, 0],
    ["default, 1% broken requires", {}, undefined],
    [
      "conflicts/obsoletes on dependencies, more versions",
      { backConflicts: 0.05, extraVersions: 0.3 },
      0,
    ],
    ["rich conflicts", { richConflicts: 0.04 }, 0],
    ["rich requires (else, unless, nesting)", { richRequires: 0.1 }, 0],
    ["suggests/supplements/enhances steering choices", { weak: 0.3 }, 0],
  ];
  const seeds = [1, 2, 3, 4];
  describe.each(shapes)("%s", (_label, shape, brokenRate) => {
    test.each(seeds)("seed %i", async (seed) => {
      const corpus = generateCorpus({ packages: 600, seed, brokenRate, shape });
      const files = writeRepodata(corpus);
      const repo = await readRepodata((p) => readFile(join(files.dir, p)), { filelists: true });
      const names = packageNames(repo);
      const pick = (q: number, k: number) =>
        names[(seed * 31 + q * 17 + k * 101 + k * q * 7) % names.length] ?? "";
      const requests = [
        ...Array.from({ length: 20 }, (_, q) => [pick(q, 0), pick(q, 1)]),
        ...Array.from({ length: 10 }, (_, q) =>
          Array.from({ length: 6 }, (_, k) => pick(q + 20, k)),
        ),
      ];
      const o = compare({ repos: [repo], oracle: [files], arch: "x86_64" }, requests);
      expectExact(o, 8);
    });
  });

  test.each(seeds)("multilib pool (i686 lock-step, 32-bit deps), seed %i", async (seed) => {
    const corpus = generateCorpus({
      packages: 600,
      seed,
      brokenRate: 0,
      shape: { multilibDeps: 0.1, backConflicts: 0.03 },
    });
    const files = writeRepodata(corpus);
    const repo = await readRepodata((p) => readFile(join(files.dir, p)), { filelists: true });
    const names = packageNames(repo);
    const requests = Array.from({ length: 25 }, (_, q) => [
      names[(seed * 13 + q * 29) % names.length] ?? "",
      names[(q * 11 + 5) % names.length] ?? "",
    ]);
    const arches = [...nativeArches("x86_64"), ...multilibArchesOf("x86_64")];
    const o = compare({ repos: [repo], oracle: [files], arch: "x86_64", arches }, requests);
    expectExact(o, 15);
  });

  test.each(seeds)("with Recommends, seed %i", async (seed) => {
    const corpus = generateCorpus({
      packages: 600,
      seed,
      brokenRate: 0,
      shape: { backConflicts: 0.03 },
    });
    const files = writeRepodata(corpus);
    const repo = await readRepodata((p) => readFile(join(files.dir, p)), { filelists: true });
    const names = packageNames(repo);
    const requests = Array.from({ length: 25 }, (_, q) => [
      names[(seed * 7 + q * 23) % names.length] ?? "",
      names[(q * 19 + 2) % names.length] ?? "",
      names[(q * 3 + 40) % names.length] ?? "",
    ]);
    const o = compare(
      { repos: [repo], oracle: [files], arch: "x86_64", recommends: true },
      requests,
    );
    expectExact(o, 10);
  });
});
