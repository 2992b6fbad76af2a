/**
 * Policy tests of selectPackages on small hand-written repositories, among
 * them one test per deliberate difference from libsolv named in depsolve.ts
 * (each shows what libsolv does instead), and rich conflicts against libsolv.
 */
import { describe, expect, test } from "vitest";
import { Closure } from "../../src/rpm/depsolve.ts";
import { PackagePool } from "../../src/rpm/package-pool.ts";
import type { Repodata } from "../../src/rpm/repodata-read.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import type { SelectInput } from "../../src/rpm/select.ts";
import { nevraOf, selectPackages } from "../../src/rpm/select.ts";
import type { TinyPackage } from "../helpers/corpus.ts";
import { tinyRepo, writeRepodata } from "../helpers/corpus.ts";
import type { OracleRequest } from "../helpers/libsolv.ts";
import { solveWithLibsolv } from "../helpers/libsolv.ts";

function repo(pkgs: TinyPackage[]): Promise<Repodata> {
  const t = tinyRepo(pkgs);
  const files: Record<string, string> = {
    "repodata/repomd.xml": t.repomdXml,
    "repodata/primary.xml": t.primaryXml,
    "repodata/filelists.xml": t.filelistsXml,
  };
  return readRepodata(async (path) => new TextEncoder().encode(files[path] ?? ""));
}

/** The same packages on disk, for libsolv. */
function onDisk(pkgs: TinyPackage[]) {
  const { primary, filelists } = writeRepodata(tinyRepo(pkgs));
  return { primary, filelists };
}

function libsolv(pkgs: TinyPackage[], install: string[], extra: Partial<OracleRequest> = {}) {
  return solveWithLibsolv({
    arch: "x86_64",
    arches: ["x86_64"],
    repos: [onDisk(pkgs)],
    install,
    ...extra,
  });
}

const base: Omit<SelectInput, "repos" | "packages"> = {
  lookaside: [],
  arch: "x86_64",
  noDeps: false,
  multilibArches: [],
  multilibMethods: [],
  sigkeys: null,
};
const names = (r: ReturnType<typeof selectPackages>) =>
  r.packages.map((p) => nevraOf(p.pkg)).sort();

describe("selectPackages", () => {
  test("versioned requires pick a matching provider; newest per name; best arch", async () => {
    const r = await repo([
      { n: "app", req: ["lib >= 2"] },
      { n: "lib", v: "1" },
      { n: "lib", v: "2" },
      { n: "lib", v: "3", a: "i686" },
    ]);
    expect(names(selectPackages({ ...base, repos: [r], packages: ["app"] }))).toEqual([
      "app-1-1.x86_64",
      "lib-2-1.x86_64",
    ]);
  });

  test("requests by name.arch, provide, file path and glob; missing reported", async () => {
    const r = await repo([
      { n: "a", prov: ["cap(x)"] },
      { n: "b", files: ["/usr/bin/bee"] },
      { n: "py-one", a: "noarch" },
      { n: "py-two", a: "noarch" },
    ]);
    const res = selectPackages({
      ...base,
      repos: [r],
      packages: ["a.x86_64", "/usr/bin/bee", "py-*", "cap(x)", "nope"],
    });
    expect(names(res)).toEqual([
      "a-1-1.x86_64",
      "b-1-1.x86_64",
      "py-one-1-1.noarch",
      "py-two-1-1.noarch",
    ]);
    expect(res.missing).toEqual(["nope"]);
  });

  test("lookaside satisfies deps and is never selected; unresolved lists the needer", async () => {
    const r = await repo([{ n: "app", req: ["base", "ghost-cap"] }, { n: "base" }]);
    const look = await repo([{ n: "base", v: "9" }]);
    const res = selectPackages({ ...base, repos: [r], lookaside: [look], packages: ["app"] });
    expect(names(res)).toEqual(["app-1-1.x86_64"]);
    expect(res.unresolved).toEqual([{ nevra: "app-1-1.x86_64", dep: "ghost-cap" }]);
  });

  test("obsoleted provider is not chosen; conflicting alternative avoided", async () => {
    const r = await repo([
      { n: "app", req: ["mta", "tool"] },
      { n: "aaa-mta", prov: ["mta"] },
      { n: "zzz-mta", prov: ["mta"], obs: ["aaa-mta < 5"] },
      { n: "tool", con: ["aaa-tool"] },
      { n: "aaa-tool" },
    ]);
    const res = selectPackages({ ...base, repos: [r], packages: ["app"] });
    expect(names(res)).toEqual(["app-1-1.x86_64", "tool-1-1.x86_64", "zzz-mta-1-1.x86_64"]);
  });

  test("rich deps: or / if / with", async () => {
    const r = await repo([
      { n: "app", req: ["(b or c)", "(d if app)", "(e if nothing)", "(virt with f)"] },
      { n: "b" },
      { n: "c" },
      { n: "d" },
      { n: "e" },
      { n: "f", prov: ["virt"] },
      { n: "g", prov: ["virt"] },
    ]);
    expect(names(selectPackages({ ...base, repos: [r], packages: ["app"] }))).toEqual([
      "app-1-1.x86_64",
      "b-1-1.x86_64",
      "d-1-1.x86_64",
      "f-1-1.x86_64",
    ]);
  });

  test("weak deps: Recommends followed by default, not with weakDeps false; noDeps", async () => {
    const r = await repo([
      { n: "app", req: ["lib"], rec: ["extra"] },
      { n: "lib" },
      { n: "extra" },
    ]);
    expect(names(selectPackages({ ...base, repos: [r], packages: ["app"] }))).toHaveLength(3);
    expect(
      names(selectPackages({ ...base, repos: [r], packages: ["app"], weakDeps: false })),
    ).toHaveLength(2);
    expect(names(selectPackages({ ...base, repos: [r], packages: ["app"], noDeps: true }))).toEqual(
      ["app-1-1.x86_64"],
    );
  });

  test("null request takes newest per name+arch; src and foreign arches never", async () => {
    const r = await repo([
      { n: "a", v: "1" },
      { n: "a", v: "2" },
      { n: "a", a: "src" },
      { n: "b", a: "aarch64" },
      { n: "c", a: "noarch" },
    ]);
    expect(names(selectPackages({ ...base, repos: [r], packages: null }))).toEqual([
      "a-2-1.x86_64",
      "c-1-1.noarch",
    ]);
  });

  test("multilib: devel method adds the i686 -devel of the same NVR", async () => {
    const r = await repo([
      { n: "foo-devel" },
      { n: "foo-devel", a: "i686" },
      { n: "tool" },
      { n: "tool", a: "i686" },
    ]);
    const input = {
      ...base,
      repos: [r],
      packages: ["foo-devel", "tool"],
      multilibArches: ["x86_64"],
    };
    expect(names(selectPackages({ ...input, multilibMethods: ["devel"] }))).toEqual([
      "foo-devel-1-1.i686",
      "foo-devel-1-1.x86_64",
      "tool-1-1.x86_64",
    ]);
    expect(names(selectPackages({ ...input, multilibMethods: ["none"] }))).toHaveLength(2);
  });

  test("sigkeys: preferred key wins, unknown/unsigned rejected unless allowed", async () => {
    const r = await repo([{ n: "a" }, { n: "b" }]);
    const [a, b] = r.packages;
    if (!a || !b) throw new Error("fixture");
    a.sigkey = "deadbeef";
    b.sigkey = null;
    const strict = selectPackages({
      ...base,
      repos: [r],
      packages: ["a", "b"],
      sigkeys: ["deadbeef"],
    });
    expect(names(strict)).toEqual(["a-1-1.x86_64"]);
    expect(strict.unsigned).toEqual(["b-1-1.x86_64"]);
    const lax = selectPackages({
      ...base,
      repos: [r],
      packages: ["a", "b"],
      sigkeys: ["deadbeef", ""],
    });
    expect(names(lax)).toHaveLength(2);
  });
});

describe("deliberate differences from libsolv (see depsolve.ts)", () => {
  test("lookaside is the system: satisfies requirements, never selected, not conflicted with", async () => {
    const pkgs: TinyPackage[] = [
      { n: "app", req: ["base", "(base or other)"], con: ["old"], rec: ["base"], sug: ["old"] },
      { n: "base" },
      { n: "other" },
    ];
    const look: TinyPackage[] = [{ n: "base", v: "9" }, { n: "old" }];
    const res = selectPackages({
      ...base,
      repos: [await repo(pkgs)],
      lookaside: [await repo(look)],
      packages: ["app"],
    });
    expect(names(res)).toEqual(["app-1-1.x86_64"]);
    expect(res.unresolved).toEqual([]);
    // libsolv, given the lookaside as its installed system, would have to erase "old".
    const theirs = libsolv(pkgs, ["app"], { lookaside: [onDisk(look)] });
    expect(theirs.problems.length).toBeGreaterThan(0);
  });

  describe("a request is never dropped; the weak rule in the way is given up", () => {
    const pkgs: TinyPackage[] = [
      { n: "broken", req: ["missing-cap"] },
      { n: "a", con: ["b"] },
      { n: "b" },
      { n: "c", req: ["x"] },
      { n: "x", con: ["d"] },
      { n: "d" },
      { n: "e", req: ["(y unless d)"] },
      { n: "y" },
    ];
    const cases: [string[], string[], { nevra: string; dep: string }[]][] = [
      [["broken"], ["broken"], [{ nevra: "broken-1-1.x86_64", dep: "missing-cap" }]],
      [["a", "b"], ["a", "b"], []],
      [["c", "d"], ["c", "d", "x"], []],
      [["e", "d"], ["d", "e", "y"], [{ nevra: "e-1-1.x86_64", dep: "(y unless d)" }]],
    ];
    test.each(cases)("%j", async (request, selected, unresolved) => {
      const res = selectPackages({ ...base, repos: [await repo(pkgs)], packages: request });
      expect(names(res)).toEqual(selected.map((n) => `${n}-1-1.x86_64`));
      expect(res.unresolved).toEqual(unresolved);
      expect(libsolv(pkgs, request).problems.length).toBeGreaterThan(0);
    });
  });

  test("Recommends are followed, Supplements not (libsolv's weak pass installs both)", async () => {
    const pkgs: TinyPackage[] = [
      { n: "app", rec: ["extra"] },
      { n: "extra" },
      { n: "langpack", sup: ["app"] },
    ];
    const r = await repo(pkgs);
    expect(names(selectPackages({ ...base, repos: [r], packages: ["app"] }))).toEqual([
      "app-1-1.x86_64",
      "extra-1-1.x86_64",
    ]);
    const theirs = libsolv(pkgs, ["app"], { recommends: true });
    expect(theirs.install).toEqual(["app-1-1.x86_64", "extra-1-1.x86_64", "langpack-1-1.x86_64"]);
    const pool = new PackagePool([r], [], { arches: ["x86_64"] });
    const closure = new Closure(pool, { followRecommends: true, followSupplements: true });
    closure.request(pool.byName("app"));
    closure.run();
    expect(closure.order.map((k) => nevraOf(pool.pkg(k))).sort()).toEqual(theirs.install);
  });

  test("add after run extends the solved closure (a one-shot libsolv solve may not)", async () => {
    const pkgs: TinyPackage[] = [{ n: "foo" }, { n: "foo", a: "i686" }];
    const arches = ["x86_64", "athlon", "i686", "i586", "i486", "i386"];
    const pool = new PackagePool([await repo(pkgs)], [], { arches });
    const closure = new Closure(pool, { followRecommends: false });
    closure.request(pool.byName("foo"));
    closure.run();
    const i686 = pool.byName("foo").find((k) => pool.pkg(k).arch === "i686");
    if (i686 === undefined) throw new Error("fixture");
    closure.add(i686);
    closure.run();
    expect(closure.order.map((k) => nevraOf(pool.pkg(k))).sort()).toEqual([
      "foo-1-1.i686",
      "foo-1-1.x86_64",
    ]);
    // libsolv decides the one-package job first, which then fulfils the name job
    expect(libsolv(pkgs, ["foo", "foo.i686"], { arches }).install).toEqual(["foo-1-1.i686"]);
  });

  test("multilib as Fedora's libsolv: both arches of a name together, i686 in lock-step", async () => {
    const pkgs: TinyPackage[] = [
      { n: "app", req: ["libfoo.so.1"] },
      { n: "foo", prov: ["libfoo.so.1()(64bit)"] },
      { n: "foo", a: "i686", prov: ["libfoo.so.1"] },
      { n: "bar" },
      { n: "bar", a: "i686" },
    ];
    const arches = ["x86_64", "athlon", "i686", "i586", "i486", "i386"];
    const r = await repo(pkgs);
    const solve = (request: string[]) =>
      selectPackages({
        ...base,
        repos: [r],
        packages: request,
        multilibArches: ["x86_64"],
        multilibMethods: ["devel"],
      });
    // a 32-bit requirement pulls the i686 build and, in lock-step, its x86_64 twin
    expect(names(solve(["app"]))).toEqual(["app-1-1.x86_64", "foo-1-1.i686", "foo-1-1.x86_64"]);
    expect(libsolv(pkgs, ["app"], { arches }).install).toEqual(names(solve(["app"])));
    // naming the arch lifts the lock-step, as libsolv's SETARCH job does
    expect(names(solve(["bar.i686"]))).toEqual(["bar-1-1.i686"]);
    expect(libsolv(pkgs, ["bar.i686"], { arches }).install).toEqual(["bar-1-1.i686"]);
  });
});

describe("rich (boolean) conflicts, against libsolv", () => {
  const pkgs: TinyPackage[] = [
    { n: "app", req: ["(x1 or x2)"] },
    { n: "x1", con: ["(y and z)"] },
    { n: "x2" },
    { n: "y", v: "1" },
    { n: "y", v: "2" },
    { n: "z" },
    { n: "cif", con: ["(y if z)"] },
    { n: "cunless", con: ["(y unless z)"] },
    { n: "cver", con: ["(y >= 2 and z)"] },
    { n: "cwith", con: ["(virt with marker)"] },
    { n: "aa-vp", prov: ["virt", "marker"] },
    { n: "zz-vp", prov: ["virt"] },
    { n: "user", req: ["virt"] },
    { n: "cor", con: ["(aa-vp or z)"] },
  ];
  /** [label, request, expected name-version list] */
  const cases: [string, string[], string[]][] = [
    [
      "(y and z): the other alternative is taken",
      ["app", "y", "z"],
      ["app-1", "x2-1", "y-2", "z-1"],
    ],
    ["(y and z): one side alone is fine", ["x1", "y"], ["x1-1", "y-2"]],
    ["(y if z) = not y, and z: z comes along", ["cif"], ["cif-1", "z-1"]],
    ["(y unless z) = y only with z", ["cunless", "y"], ["cunless-1", "y-2", "z-1"]],
    ["(y >= 2 and z): an older y is taken", ["cver", "y", "z"], ["cver-1", "y-1", "z-1"]],
    [
      "(virt with marker): the provider without marker",
      ["cwith", "user"],
      ["cwith-1", "user-1", "zz-vp-1"],
    ],
    ["(aa-vp or z): conflicts with each", ["cor", "user"], ["cor-1", "user-1", "zz-vp-1"]],
  ];
  test.each(cases)("%s", async (_label, request, expected) => {
    const res = selectPackages({ ...base, repos: [await repo(pkgs)], packages: request });
    expect(names(res)).toEqual(expected.map((n) => `${n}-1.x86_64`).sort());
    expect(res.unresolved).toEqual([]);
    const theirs = libsolv(pkgs, request);
    expect(theirs.problems).toEqual([]);
    expect(theirs.install).toEqual(names(res));
  });

  test("a rich conflict the request cannot avoid: all kept, libsolv reports it", async () => {
    const request = ["x1", "y", "z"];
    const res = selectPackages({ ...base, repos: [await repo(pkgs)], packages: request });
    // Every y conflicts with x1 once z is in: the failing request takes its best candidate, y 2.
    expect(names(res)).toEqual(["x1-1-1.x86_64", "y-2-1.x86_64", "z-1-1.x86_64"]);
    expect(libsolv(pkgs, request).problems.length).toBeGreaterThan(0);
  });
});

describe("a request libsolv would drop takes its best candidate", () => {
  test("a broken name with x86_64 and i686 builds: the x86_64 one, its missing dep listed", async () => {
    const pkgs: TinyPackage[] = [
      // i686 first, as createrepo_c orders file names: rule numbers follow it.
      { n: "broken", a: "i686", req: ["missing-cap"] },
      { n: "broken", req: ["missing-cap"] },
      { n: "fine", a: "i686" },
      { n: "fine" },
    ];
    const arches = ["x86_64", "athlon", "i686", "i586", "i486", "i386"];
    const pool = new PackagePool([await repo(pkgs)], [], { arches });
    const closure = new Closure(pool, { followRecommends: false });
    closure.request(pool.byName("broken"));
    closure.request(pool.byName("fine"));
    closure.run();
    expect(closure.order.map((k) => nevraOf(pool.pkg(k))).sort()).toEqual([
      "broken-1-1.x86_64",
      "fine-1-1.x86_64",
    ]);
    expect(closure.unresolved.map((u) => [nevraOf(pool.pkg(u.key)), u.dep])).toEqual([
      ["broken-1-1.x86_64", "missing-cap"],
    ]);
    expect(libsolv(pkgs, ["broken", "fine"], { arches }).problems.length).toBeGreaterThan(0);
  });
});
