/** Policy tests of selectPackages on small hand-written repositories. */
import { describe, expect, test } from "vitest";
import type { Repodata } from "../../src/rpm/repodata-read.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import type { SelectInput } from "../../src/rpm/select.ts";
import { nevraOf, selectPackages } from "../../src/rpm/select.ts";

interface P {
  n: string;
  v?: string;
  a?: string;
  prov?: string[];
  req?: string[];
  rec?: string[];
  obs?: string[];
  con?: string[];
  files?: string[];
}

const ent = (s: string) => {
  const m = /^(\S+) (>=|=|<) (\S+)$/.exec(s);
  if (!m)
    return `<rpm:entry name="${s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}"/>`;
  const f = { ">=": "GE", "=": "EQ", "<": "LT" }[m[2] ?? "="];
  return `<rpm:entry name="${m[1]}" flags="${f}" epoch="0" ver="${m[3]}"/>`;
};
const block = (t: string, l: string[] = []) =>
  l.length ? `<rpm:${t}>${l.map(ent).join("")}</rpm:${t}>` : "";

async function repo(pkgs: P[]): Promise<Repodata> {
  const body = pkgs
    .map(
      (p, i) =>
        `<package type="rpm"><name>${p.n}</name><arch>${p.a ?? "x86_64"}</arch><version epoch="0" ver="${p.v ?? "1"}" rel="1"/><checksum type="sha256" pkgid="YES">${p.n}${i}</checksum><location href="${p.n}.rpm"/><format>${block("provides", p.prov)}${block("requires", p.req)}${block("conflicts", p.con)}${block("obsoletes", p.obs)}${block("recommends", p.rec)}${(p.files ?? []).map((f) => `<file>${f}</file>`).join("")}</format></package>`,
    )
    .join("");
  const files: Record<string, string> = {
    "repodata/repomd.xml": `<repomd><data type="primary"><location href="p.xml"/></data></repomd>`,
    "p.xml": `<metadata xmlns:rpm="r">${body}</metadata>`,
  };
  return readRepodata(async (path) => new TextEncoder().encode(files[path] ?? ""));
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
