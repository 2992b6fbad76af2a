import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import type { ReadFile } from "../../src/rpm/repodata-read.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { generateCorpus } from "../helpers/corpus.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { SYSTEM_PYTHON } from "../helpers/libsolv.ts";

const FIXTURES = FIXTURES_DIR;
const fsReader =
  (dir: string): ReadFile =>
  (p) =>
    readFile(join(dir, p));

/** Package count and a digest of NEVRAs+deps as libsolv reads the same primary. */
function libsolvCount(primary: string): number {
  const script = `import solv,sys
p=solv.Pool();p.setdisttype(solv.Pool.DISTTYPE_RPM);r=p.add_repo("r");f=solv.xfopen(sys.argv[1]);r.add_rpmmd(f,None,0);print(r.nsolvables)`;
  return Number(execFileSync(SYSTEM_PYTHON, ["-c", script, primary], { encoding: "utf8" }).trim());
}

const memReader =
  (files: Record<string, string | Uint8Array>): ReadFile =>
  async (p) => {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT ${p}`);
    return typeof f === "string" ? new TextEncoder().encode(f) : f;
  };

describe("readRepodata on fixtures", () => {
  const dirs = [
    "repos/david35mm-fc34-copr-mirror",
    "repos/libdnf-dnf-ci-fedora",
    "repos/librepo-yum-mock-01",
    "repos/librepo-yum-mock-02-metadata-only",
    "repos/odcs-fedora-module-ed",
    "large-repodata/centos-7-x86_64-i686-docker-offline-bundle",
    "large-repodata/centos-stream-9-appstream-x86_64-2025-01",
    "large-repodata/centos-stream-9-baseos-x86_64-2022-02",
    "large-repodata/tizen-2.4-samsung-serranove-armv7l",
  ];
  test.each(dirs)("%s: same package count as libsolv, joined filelists", async (rel) => {
    const dir = join(FIXTURES, rel);
    const repo = await readRepodata(fsReader(dir), { filelists: true });
    const repomd = await readFile(join(dir, "repodata/repomd.xml"), "utf8");
    const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1] ?? "";
    expect(repo.packages.length).toBe(libsolvCount(join(dir, href)));
    expect(repo.repomdChecksum).toMatch(/^[0-9a-f]{64}$/);
    for (const p of repo.packages) {
      expect(p.name).not.toBe("");
      expect(p.pkgid).not.toBe("");
      expect(p.location).not.toBe("");
    }
  });

  test("bash record from CentOS Stream 9 BaseOS is complete", async () => {
    const dir = join(FIXTURES, "large-repodata/centos-stream-9-baseos-x86_64-2022-02");
    const repo = await readRepodata(fsReader(dir), { filelists: true });
    const bash = repo.packages.find((p) => p.name === "bash");
    expect(bash).toMatchObject({
      arch: "x86_64",
      epoch: "0",
      version: "5.1.8",
      release: "2.el9",
      checksumType: "sha256",
      sourcerpm: "bash-5.1.8-2.el9.src.rpm",
      location: "Packages/bash-5.1.8-2.el9.x86_64.rpm",
      hasFullFilelist: true,
    });
    expect(bash?.provides).toContainEqual({ name: "/bin/sh" });
    expect(bash?.files.map((f) => f.path)).toContain("/usr/share/doc/bash/FAQ");
    expect(repo.revision).toBe("1644263915");
  });

  test("other.xml changelogs, and a listed-but-missing file is an error", async () => {
    const tizen = join(FIXTURES, "large-repodata/tizen-2.4-samsung-serranove-armv7l");
    const repo = await readRepodata(fsReader(tizen), { other: true });
    expect(repo.packages.some((p) => p.changelogs.length > 0)).toBe(true);
    const appstream = join(FIXTURES, "large-repodata/centos-stream-9-appstream-x86_64-2025-01");
    await expect(readRepodata(fsReader(appstream), { other: true })).rejects.toThrow(
      /other metadata/,
    );
    const noPrimary = join(
      FIXTURES,
      "large-repodata/centos-stream-9-baseos-x86_64-2025-01-filelists-only",
    );
    await expect(readRepodata(fsReader(noPrimary))).rejects.toThrow(/primary metadata/);
  });
});

describe("readRepodata XML handling", () => {
  test("entities, CDATA, xml:base, missing optional elements, gzip", async () => {
    const primary = `<?xml version="1.0"?><!-- c --><metadata xmlns:rpm="x" packages="1">
<package type="rpm"><name>a&amp;b</name><arch>noarch</arch><version ver="1" rel="2"/>
<checksum type="sha256" pkgid="YES">ab</checksum><summary>x &lt;y&gt; &#65;&#x42;</summary>
<description><![CDATA[raw <b> & stuff]]> tail</description>
<location xml:base="http://mirror/x/" href="P/a.rpm"/><format><rpm:requires><rpm:entry name="c" flags="GE" epoch="1" ver="2" pre="1"/></rpm:requires></format></package></metadata>`;
    const repo = await readRepodata(
      memReader({
        "repodata/repomd.xml": `<repomd><data type="primary"><location href="repodata/p.xml.gz"/></data></repomd>`,
        "repodata/p.xml.gz": gzipSync(primary),
      }),
    );
    expect(repo.revision).toBe("");
    expect(repo.packages).toHaveLength(1);
    expect(repo.packages[0]).toMatchObject({
      name: "a&b",
      epoch: "0",
      summary: "x <y> AB",
      description: "raw <b> & stuff tail",
      location: "P/a.rpm",
      locationBase: "http://mirror/x/",
      requires: [{ name: "c", flags: "GE", epoch: "1", ver: "2", pre: true }],
      provides: [],
      files: [],
      hasFullFilelist: false,
    });
  });

  test("synthetic corpus round-trips: counts, deps and filelists", async () => {
    const c = generateCorpus({ packages: 500, seed: 9 });
    const repo = await readRepodata(
      memReader({
        "repodata/repomd.xml": c.repomdXml,
        "repodata/primary.xml": c.primaryXml,
        "repodata/filelists.xml": c.filelistsXml,
      }),
      { filelists: true },
    );
    expect(repo.packages).toHaveLength(500);
    expect(repo.packages.every((p) => p.files.length === 2 && p.hasFullFilelist)).toBe(true);
    expect(repo.packages.some((p) => p.requires.some((d) => d.name.startsWith("(")))).toBe(true);
    expect(repo.packages[0]?.description).toBe(`desc <${repo.packages[0]?.name}>`);
  });
});
