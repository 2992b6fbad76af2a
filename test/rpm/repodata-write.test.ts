/**
 * Our repodata writer against the real tools: createrepo_c builds repodata
 * for a set of real RPMs, the reader turns it into PackageRecords, we write
 * them back, and then createrepo_c's and our repodata must be the same XML
 * byte for byte, and dnf and libsolv must see the same packages in both.
 */
import { createHash } from "node:crypto";
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { decompress } from "fzstd";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { primaryPackageXml } from "../../src/rpm/repodata-write.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { escapeAttr, escapeText } from "../../src/rpm/xml-escape.ts";
import { type Compression, createCompressedFileWriter } from "../../src/worker/tools/compress.ts";
import { runCreaterepo } from "../../src/worker/tools/createrepo.ts";
import { type RepodataPackage, writeRepodata } from "../../src/worker/tools/write-repodata.ts";
import { type DnfEnv, dnf, dnfDownload, dnfInstall, dnfRepoquery } from "../helpers/dnf.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { libsolvDump } from "../helpers/libsolv-dump.ts";
import { buildRpms, type RpmDescription } from "../helpers/rpmbuild.ts";

const FIXTURES = FIXTURES_DIR;
const CI_FEDORA = join(FIXTURES, "repos/libdnf-dnf-ci-fedora");
/** Real RPMs with non-ASCII changelogs, weak and rich deps, file deps, pre-requires, src. */
const RICH_RPMS = [
  "rpms/centos7-multilib/libuuid-2.23.2-65.el7.x86_64.rpm",
  "rpms/centos7-multilib/libuuid-2.23.2-65.el7.i686.rpm",
  "rpms/centos7-multilib/libcurl-7.29.0-59.el7_9.1.x86_64.rpm",
  "rpms/centos7-multilib/expat-2.1.0-12.el7.x86_64.rpm",
  "rpms/rpm-rs/test_assets/rpm-sign-4.15.1-1.fc31.x86_64.rpm",
  "rpms/rpm-rs/test_assets/389-ds-base-devel-1.3.8.4-15.el7.x86_64.rpm",
  "rpms/rpm-rs/test_assets/fixture_packages/rpm-feature-coverage-2.3.4-5.el8.x86_64.rpm",
  "rpms/createrepo_c/tests/testdata/packages/balicek-utf8-1.1.1-1.x86_64.rpm",
  "rpms/createrepo_c/tests/testdata/packages/balicek-iso88592-1.1.1-1.x86_64.rpm",
  "rpms/createrepo_c/unittests/info-4.13a-10.fc14.i686.rpm",
  "rpms/createrepo_c/deltarepo/acceptance_tests/repos/repo1/Cython-0.17.1-2.el7.src.rpm",
  "rpms/pulp-fixtures/rpm-new/assets/packages/complex-package-2.3.4-5.el8.x86_64.rpm",
  "rpms/rpmlint/test/binary/freeradius-server-3.2.3-3.1.x86_64.rpm",
  "rpms/rpmlint/test/binary/dovecot-2.2.9-1.fc20.x86_64.rpm",
  "rpms/rpmlint/test/binary/python310-jupyter-events-0.6.3-0.noarch.rpm",
];
/** Built RPMs for what real fixtures show rarely: escaping, ghosts, dirs, pre-requires, epochs. */
const EDGE_RPMS: RpmDescription[] = [
  {
    name: "edgy",
    epoch: 3,
    version: "1.2~rc1",
    release: "0.1^git5",
    arch: "x86_64",
    summary: "Tags <b> & \"quotes\" 'n' ünïcødé ✓",
    description: 'Line one & <two>\n\tindented "quoted"\n\nLast: Łódź 😀',
    license: "MIT AND (GPL-2.0-or-later WITH Classpath-exception-2.0)",
    requires: ["edgy-libs(x86-64) = 3:1.2~rc1-0.1^git5", "coreutils >= 8.0", "(sed or busybox)"],
    requiresPre: ["/bin/sh", "shadow-utils"],
    provides: ["edgy-compat = 1.0", "config(edgy) = 3:1.2~rc1-0.1^git5"],
    conflicts: ["edgy-old < 2"],
    obsoletes: ["edgy-legacy <= 1:0.9"],
    recommends: ["edgy-doc"],
    suggests: ["(edgy-gui if xorg)"],
    supplements: ["(edgy-libs and bash)"],
    enhances: ["bash"],
    files: [
      "/usr/bin/edgy",
      "/usr/sbin/edgyd",
      "/usr/lib/sendmail",
      "/etc/edgy.conf",
      { path: "/etc/edgy.d", dir: true },
      { path: "/var/log/edgy.log", ghost: true },
      { path: "/usr/share/edgy", dir: true },
      '/usr/share/edgy/a&b<c>"d".txt',
      "/usr/share/edgy/ünï.txt",
    ],
    changelog: [
      {
        date: "Mon Jan 01 2024",
        author: "Zbigniew Jędrzejewski-Szmek <zbyszek@example.org> - 3:1.2~rc1-0.1^git5",
        text: '- Fix <tags> & "quotes"\n- Tabs\there',
      },
      {
        date: "Sun Dec 31 2023",
        author: "Plain Person <p@example.org> - 1.0-1",
        text: "- Initial",
      },
    ],
    buildSrpm: true,
  },
  {
    name: "edgy-libs",
    epoch: 3,
    version: "1.2~rc1",
    release: "0.1^git5",
    arch: "x86_64",
    files: ["/usr/lib64/libedgy.so.1"],
  },
  {
    name: "edgy-doc",
    files: [{ path: "/usr/share/doc/edgy-doc", dir: true }, "/usr/share/doc/edgy-doc/README"],
  },
];
const KINDS = ["primary", "filelists", "other"] as const;
const COMPRESSIONS = ["gz", "zst"] as const;
const NOW = 1_714_040_000;
/** Everything dnf shows per package; multi-valued tags print one value per line. */
const REPOQUERY_FORMAT = [
  "@@ %{name}|%{epoch}|%{version}|%{release}|%{arch}|%{location}|%{chksum}|%{sourcerpm}",
  "%{summary}|%{license}|%{url}|%{packager}|%{vendor}|%{group}|%{buildtime}",
  "%{downloadsize}|%{installsize}|%{description}",
  "requires:%{requires}",
  "provides:%{provides}",
  "conflicts:%{conflicts}",
  "obsoletes:%{obsoletes}",
  "weak:%{recommends}|%{suggests}|%{supplements}|%{enhances}",
  "files:%{files}",
].join("\n");

let work: string;

async function rpmPaths(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && e.name !== "repodata") out.push(...(await rpmPaths(dir, p)));
    else if (e.isFile() && e.name.endsWith(".rpm")) out.push(p);
  }
  return out;
}

/** A fresh repository root holding `files` (relative path → source file), hard-linked. */
async function makeRoot(name: string, files: ReadonlyMap<string, string>): Promise<string> {
  const root = join(work, name);
  await mkdir(root, { recursive: true });
  for (const [rel, src] of files) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await link(src, join(root, rel));
  }
  return root;
}

const reader = (root: string) => (rel: string) => readFile(join(root, rel));

async function openXml(root: string, kind: string): Promise<string> {
  const repomd = await readFile(join(root, "repodata/repomd.xml"), "utf8");
  const href = new RegExp(`<data type="${kind}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd);
  if (!href?.[1]) throw new Error(`${root}: no ${kind} in repomd.xml`);
  const bytes = await readFile(join(root, href[1]));
  const raw = href[1].endsWith(".zst") ? decompress(bytes) : gunzipSync(bytes);
  return Buffer.from(raw).toString("utf8");
}

interface RepoSet {
  oracle: string;
  ours: Record<Compression, string>;
  packages: PackageRecord[];
}

/** Copies `files` into a root, runs createrepo_c, reads it back and writes our gz and zst twins. */
async function prepare(name: string, files: ReadonlyMap<string, string>): Promise<RepoSet> {
  const source = join(work, `${name}-src`);
  await mkdir(source, { recursive: true });
  for (const [rel, src] of files) {
    await mkdir(dirname(join(source, rel)), { recursive: true });
    await copyFile(src, join(source, rel));
  }
  const linked = new Map([...files.keys()].map((rel) => [rel, join(source, rel)]));
  const oracle = await makeRoot(`${name}-createrepo`, linked);
  await runCreaterepo(oracle, { revision: String(NOW) });
  const { packages } = await readRepodata(reader(oracle), { filelists: true, other: true });
  const entries: RepodataPackage[] = packages.map((pkg) => ({ pkg, location: pkg.location }));
  const ours: Record<Compression, string> = {
    gz: await makeRoot(`${name}-ours-gz`, linked),
    zst: await makeRoot(`${name}-ours-zst`, linked),
  };
  for (const compression of COMPRESSIONS) {
    await writeRepodata(ours[compression], entries, { compression, now: NOW });
  }
  return { oracle, ours, packages };
}

const sets: Record<string, RepoSet> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "odcs-repodata-write-"));
  const ciFiles = new Map((await rpmPaths(CI_FEDORA)).map((p) => [p, join(CI_FEDORA, p)]));
  const richFiles = new Map(
    RICH_RPMS.map((p) => [p.slice(p.lastIndexOf("/") + 1), join(FIXTURES, p)]),
  );
  sets["dnf-ci-fedora"] = await prepare("ci", ciFiles);
  sets.rich = await prepare("rich", richFiles);
  sets.empty = await prepare("empty", new Map());
  const built = await buildRpms(EDGE_RPMS);
  const builtFiles = new Map<string, string>();
  for (const b of built) {
    builtFiles.set(b.fileName, b.path);
    if (b.srpmPath) builtFiles.set(b.srpmPath.slice(b.srpmPath.lastIndexOf("/") + 1), b.srpmPath);
  }
  sets.built = await prepare("built", builtFiles);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function setOf(name: string): RepoSet {
  const s = sets[name];
  if (!s) throw new Error(`set ${name} not prepared`);
  return s;
}

const SET_NAMES = ["dnf-ci-fedora", "rich", "built", "empty"];

describe.each(SET_NAMES)("%s: our repodata vs createrepo_c", (name) => {
  test("the fixture set is what we think it is", () => {
    const expected = { "dnf-ci-fedora": 291, rich: RICH_RPMS.length, built: 4, empty: 0 }[name];
    expect(setOf(name).packages).toHaveLength(expected ?? -1);
  });

  test.each(COMPRESSIONS)("%s: primary, filelists and other are byte-identical", async (c) => {
    const { oracle, ours } = setOf(name);
    for (const kind of KINDS) {
      expect(await openXml(ours[c], kind), kind).toBe(await openXml(oracle, kind));
    }
  });

  test.each(COMPRESSIONS)("%s: repomd.xml describes the files on disk", async (c) => {
    const root = setOf(name).ours[c];
    const repomd = await readFile(join(root, "repodata/repomd.xml"), "utf8");
    const oracleRepomd = await readFile(join(setOf(name).oracle, "repodata/repomd.xml"), "utf8");
    for (const kind of KINDS) {
      const block = new RegExp(`<data type="${kind}">([\\s\\S]*?)</data>`).exec(repomd)?.[1] ?? "";
      const field = (tag: string) => new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`).exec(block)?.[1];
      const href = /<location href="([^"]+)"/.exec(block)?.[1] ?? "";
      const stored = await readFile(join(root, href));
      const sum = createHash("sha256").update(stored).digest("hex");
      expect(href).toBe(`repodata/${sum}-${kind}.xml.${c}`);
      expect(field("checksum")).toBe(sum);
      expect(Number(field("size"))).toBe(stored.length);
      expect(field("timestamp")).toBe(String(NOW));
      const oracleBlock = new RegExp(`<data type="${kind}">([\\s\\S]*?)</data>`).exec(oracleRepomd);
      const oracleOpen = /<open-checksum[^>]*>([^<]*)</.exec(oracleBlock?.[1] ?? "")?.[1];
      expect(field("open-checksum")).toBe(oracleOpen);
    }
    const shape = (xml: string) =>
      xml
        .replace(/>[0-9a-f]{64}</g, ">SUM<")
        .replace(/href="[^"]*"/g, 'href="HREF"')
        .replace(/<(size|timestamp)>\d+</g, "<$1>N<");
    const withoutDb = oracleRepomd.replace(/ {2}<data type="\w+_db">[\s\S]*?<\/data>\n/g, "");
    expect(shape(repomd)).toBe(shape(withoutDb));
  });

  test.each(COMPRESSIONS)(
    "%s: libsolv reads the same packages, deps, files, changelogs",
    async (c) => {
      const { oracle, ours } = setOf(name);
      const [mine, theirs] = await Promise.all([libsolvDump(ours[c]), libsolvDump(oracle)]);
      expect(mine).toEqual(theirs);
      expect(mine).toHaveLength(setOf(name).packages.length);
    },
  );

  test.each(COMPRESSIONS)("%s: dnf repoquery answers the same", async (c) => {
    const { oracle, ours } = setOf(name);
    const query = async (repos: string) => [
      ...(await dnfRepoquery({ repos }, REPOQUERY_FORMAT)),
      ...(await dnf({ repos }, ["repoquery", "--changelogs"])).stdout.split("\n"),
    ];
    const [mine, theirs] = await Promise.all([query(ours[c]), query(oracle)]);
    expect(mine).toEqual(theirs);
    expect(mine.filter((l) => l.startsWith("@@ ")).length).toBe(setOf(name).packages.length);
  });
});

describe("dnf installs from our repodata", () => {
  test.each(COMPRESSIONS)("%s: abcde and its dependencies into an empty installroot", async (c) => {
    const { oracle, ours } = setOf("dnf-ci-fedora");
    const mine: DnfEnv = { repos: ours[c] };
    const installed = await dnfInstall(mine, ["abcde"]);
    expect(installed).toEqual([
      "abcde-2.9.2-1.fc29.noarch",
      "flac-1.3.2-8.fc29.x86_64",
      "wget-1.19.5-5.fc29.x86_64",
    ]);
    expect(installed).toEqual(await dnfInstall({ repos: oracle }, ["abcde"]));
  });

  test.each(COMPRESSIONS)("%s: --downloadonly resolves and fetches the RPMs", async (c) => {
    const { ours } = setOf("dnf-ci-fedora");
    expect(await dnfDownload({ repos: ours[c] }, ["abcde"])).toEqual([
      "abcde-2.9.2-1.fc29.noarch.rpm",
      "flac-1.3.2-8.fc29.x86_64.rpm",
      "wget-1.19.5-5.fc29.x86_64.rpm",
    ]);
  });
});

describe("XML escaping (libxml2 2.9 as used by createrepo_c)", () => {
  test("text keeps quotes, tabs, LF and UTF-8; escapes & < > and CR", () => {
    expect(escapeText(`a & b <c> "d" 'e' \r\n\t Tomáš 😀`)).toBe(
      `a &amp; b &lt;c&gt; "d" 'e' &#13;\n\t Tomáš 😀`,
    );
  });

  test("attributes also escape quotes and whitespace, and every non-ASCII character", () => {
    expect(escapeAttr(`a & "b" <c>\n\r\t Tomáš 😀`)).toBe(
      "a &amp; &quot;b&quot; &lt;c&gt;&#10;&#13;&#9; Tom&#xE1;&#x161; &#x1F600;",
    );
    expect(escapeAttr("plain-1.0")).toBe("plain-1.0");
  });
});

describe("location xml:base", () => {
  test("matches createrepo_c --baseurl byte for byte", async () => {
    const { oracle } = setOf("rich");
    const based = join(work, "rich-baseurl");
    await mkdir(based);
    for (const rel of await rpmPaths(oracle)) await link(join(oracle, rel), join(based, rel));
    await runCreaterepo(based, { baseurl: "http://mirror.example/odcs/compose-1/" });
    const { packages } = await readRepodata(reader(based));
    expect(packages[0]?.locationBase).toBe("http://mirror.example/odcs/compose-1/");
    const ours = join(work, "rich-baseurl-ours");
    await writeRepodata(
      ours,
      packages.map((pkg) => ({ pkg, location: pkg.location, locationBase: pkg.locationBase })),
      { compression: "gz", now: NOW },
    );
    expect(await openXml(ours, "primary")).toBe(await openXml(based, "primary"));
  });

  test("an absolute local path becomes a file:// URL, as in createrepo_c", () => {
    const pkg = setOf("rich").packages[0];
    if (!pkg) throw new Error("no package");
    expect(primaryPackageXml(pkg, "Packages/x.rpm", "/srv/repo/")).toContain(
      '<location xml:base="file:///srv/repo/" href="Packages/x.rpm"/>',
    );
  });
});

describe("writeRepodata files", () => {
  const entriesOf = (packages: readonly PackageRecord[]): RepodataPackage[] =>
    packages.map((pkg) => ({ pkg, location: pkg.location }));

  test("rewriting a repository points repomd.xml at the new files", async () => {
    const dir = join(work, "rewrite");
    const all = setOf("dnf-ci-fedora").packages;
    await writeRepodata(dir, entriesOf(all), { compression: "gz", now: NOW });
    const info = await writeRepodata(dir, entriesOf(all.slice(0, 7)), {
      compression: "zst",
      now: NOW + 60,
      revision: "compose-42",
    });
    const repomd = await readFile(join(dir, "repodata/repomd.xml"));
    expect(info.repomdChecksum).toBe(createHash("sha256").update(repomd).digest("hex"));
    expect(info.revision).toBe("compose-42");
    const back = await readRepodata(reader(dir), { filelists: true, other: true });
    expect(back.revision).toBe("compose-42");
    expect(back.repomdChecksum).toBe(info.repomdChecksum);
    expect(back.packages).toEqual(all.slice(0, 7));
    expect((await readdir(join(dir, "repodata"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("an aborted write leaves no repomd.xml and no partial files", async () => {
    const dir = join(work, "aborted");
    const signal = AbortSignal.abort();
    for (const compression of COMPRESSIONS) {
      await expect(
        writeRepodata(dir, entriesOf(setOf("rich").packages), { compression, now: NOW, signal }),
      ).rejects.toThrow(/abort/i);
    }
    expect(await readdir(join(dir, "repodata"))).toEqual([]);
  });

  test("a failing zstd surfaces as an error and the partial file is removed", async () => {
    const path = join(work, "broken.zst");
    const writer = createCompressedFileWriter(path, "zst", { zstdBin: join(work, "no-zstd") });
    await expect(
      (async () => {
        await writer.write(Buffer.from("<metadata/>"));
        await writer.end();
      })(),
    ).rejects.toThrow(/ENOENT|no-zstd/);
    await writer.abort();
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

describe("createrepo_c wrapper", () => {
  test("pkglist limits the repository to the listed RPMs", async () => {
    const { oracle } = setOf("dnf-ci-fedora");
    const dir = join(work, "pkglist");
    await mkdir(dir);
    for (const rel of await rpmPaths(oracle)) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await link(join(oracle, rel), join(dir, rel));
    }
    await runCreaterepo(dir, { pkglist: ["noarch/abcde-2.9.2-1.fc29.noarch.rpm"] });
    const { packages } = await readRepodata(reader(dir));
    expect(packages.map((p) => p.location)).toEqual(["noarch/abcde-2.9.2-1.fc29.noarch.rpm"]);
  });

  test("an aborted run rejects with an AbortError", async () => {
    const dir = join(work, "createrepo-abort");
    await mkdir(dir);
    await expect(runCreaterepo(dir, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});

describe("real distribution metadata read and written back", () => {
  const LARGE = join(FIXTURES, "large-repodata");

  test("CentOS Stream 9 BaseOS (1 125 packages): primary and filelists byte-identical", async () => {
    const root = join(LARGE, "centos-stream-9-baseos-x86_64-2022-02");
    const { packages } = await readRepodata(reader(root), { filelists: true });
    expect(packages).toHaveLength(1125);
    const out = join(work, "cs9-baseos");
    await writeRepodata(out, entriesFrom(packages), { compression: "gz", now: NOW });
    for (const kind of ["primary", "filelists"]) {
      expect(await openXml(out, kind), kind).toBe(await openXml(root, kind));
    }
  });

  // Written by older createrepo versions (other indentation and escaping), so
  // compared through libsolv rather than byte for byte.
  test.each(["tizen-2.4-samsung-serranove-armv7l", "centos-7-x86_64-i686-docker-offline-bundle"])(
    "%s: libsolv sees the same packages",
    async (name) => {
      const root = join(LARGE, name);
      const { packages } = await readRepodata(reader(root), { filelists: true, other: true });
      const out = join(work, name);
      await writeRepodata(out, entriesFrom(packages), { compression: "zst", now: NOW });
      const [mine, theirs] = await Promise.all([libsolvDump(out), libsolvDump(root)]);
      expect(mine).toEqual(theirs);
      expect(mine.length).toBeGreaterThan(250);
    },
  );
});

function entriesFrom(packages: readonly PackageRecord[]): RepodataPackage[] {
  return packages.map((pkg) => ({ pkg, location: pkg.location, locationBase: pkg.locationBase }));
}
