import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readRpmFileHeader, readRpmFileRecord } from "../../src/rpm/rpm-file.ts";
import { DEP_KINDS } from "../../src/rpm/types.ts";
import { readPrimary } from "../helpers/primary-xml.ts";
import { queryRpms, sigkeyFromFacts } from "../helpers/rpm-query.ts";
import { type BuiltRpm, buildRpms, createRepo, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";

const DESCRIPTIONS: RpmDescription[] = [
  {
    name: "hdr-full",
    version: "2.4.1",
    release: "3.fc40",
    epoch: 2,
    arch: "x86_64",
    requires: ["libhdr.so.1()(64bit)", "hdr-common = 2:2.4.1-3.fc40", "(pkgA or pkgB)", "/bin/sh"],
    requiresPre: ["shadow-utils"],
    provides: ["hdr-virtual = 7", "libhdr.so.1()(64bit)"],
    conflicts: ["hdr-old < 2"],
    obsoletes: ["hdr-legacy <= 1.9"],
    recommends: ["hdr-docs"],
    suggests: ["hdr-extras > 1"],
    supplements: ["(hdr-full and langpacks-en)"],
    enhances: ["hdr-base"],
    files: [
      "/usr/bin/hdr",
      "/usr/lib64/libhdr.so.1",
      { path: "/etc/hdr.conf", content: "x=1\n" },
      { path: "/usr/share/hdr", dir: true },
      { path: "/var/log/hdr.log", ghost: true },
    ],
  },
  { name: "hdr-lib", arch: "i686", provides: ["libhdr.so.1"], files: ["/usr/lib/libhdr.so.1"] },
  { name: "hdr-noarch", requires: ["hdr-full"], files: ["/usr/share/doc/hdr-noarch/README"] },
  { name: "hdr-ppc", arch: "ppc64", files: ["/usr/lib64/libppc.so.2"] },
  { name: "hdr-s390", arch: "s390x", files: ["/usr/bin/s390-tool"] },
];

let built: BuiltRpm[] = [];
let rsa: TestKey;
let dsa: TestKey;
let signed: { path: string; key: TestKey }[] = [];
let repo = "";

beforeAll(async () => {
  [built, rsa, dsa] = await Promise.all([
    buildRpms(DESCRIPTIONS),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
  const first = built[0]?.path ?? "";
  signed = [
    { path: await signRpm(first, rsa), key: rsa },
    { path: await signRpm(first, dsa), key: dsa },
  ];
  repo = await mkdtemp(join(tmpdir(), "odcs-built-"));
});

afterAll(async () => {
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("header reader on freshly built and signed RPMs", () => {
  test("builds every arch, including foreign ones, without a compiler", () => {
    expect(built.map((b) => b.fileName)).toEqual([
      "hdr-full-2.4.1-3.fc40.x86_64.rpm",
      "hdr-lib-1.0-1.i686.rpm",
      "hdr-noarch-1.0-1.noarch.rpm",
      "hdr-ppc-1.0-1.ppc64.rpm",
      "hdr-s390-1.0-1.s390x.rpm",
    ]);
  });

  test("fields, deps and files agree with rpm -qp", async () => {
    const paths = [...built.map((b) => b.path), ...signed.map((s) => s.path)];
    const facts = await queryRpms(paths);
    for (const [i, path] of paths.entries()) {
      const h = await readRpmFileHeader(path);
      const f = facts[i];
      if (!f) throw new Error("missing rpm facts");
      expect([h.name, String(h.epoch ?? "(none)"), h.version, h.release, h.arch]).toEqual(
        ["NAME", "EPOCH", "VERSION", "RELEASE", "ARCH"].map((t) => f.scalars[t]),
      );
      for (const k of DEP_KINDS) {
        expect(h[k], `${path} ${k}`).toEqual(f[k]);
      }
      expect(
        h.files.map((x) => ({ path: x.path, mode: x.mode, flags: x.flags, size: x.size })),
      ).toEqual(f.files);
      expect(h.sigkey).toBe(sigkeyFromFacts(f));
    }
  });

  test("sigkey is the signing key's short id for RSA and DSA signatures", async () => {
    expect((await readRpmFileHeader(built[0]?.path ?? "")).sigkey).toBeNull();
    for (const s of signed) {
      expect((await readRpmFileHeader(s.path)).sigkey).toBe(s.key.sigkey);
    }
    expect(rsa.sigkey).not.toBe(dsa.sigkey);
  });

  test("records equal createrepo_c's primary for the same files", async () => {
    const paths = built.map((b) => b.path);
    await createRepo(repo, paths);
    const primary = readPrimary(repo);
    for (const b of built) {
      const r = await readRpmFileRecord(b.path, { location: b.fileName });
      const p = primary.get(b.fileName);
      expect(p, b.fileName).toBeDefined();
      for (const k of DEP_KINDS) {
        expect(r[k], `${b.fileName} ${k}`).toEqual(p?.deps[k]);
      }
      expect([r.headerStart, r.headerEnd, r.sizeArchive, r.sizeInstalled]).toEqual([
        p?.headerStart,
        p?.headerEnd,
        p?.sizeArchive,
        p?.sizeInstalled,
      ]);
    }
    const full = primary.get("hdr-full-2.4.1-3.fc40.x86_64.rpm");
    expect(full?.deps.requires?.find((d) => d.name === "shadow-utils")?.pre).toBe(true);
    expect(full?.deps.requires?.some((d) => d.name.startsWith("rpmlib("))).toBe(false);
    expect(full?.deps.requires?.some((d) => d.name === "libhdr.so.1()(64bit)")).toBe(false);
  });
});
