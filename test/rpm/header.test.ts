import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import type { RpmHeader } from "../../src/rpm/header.ts";
import { parseLayout, readStrings } from "../../src/rpm/header-format.ts";
import { readRpmFileHeader } from "../../src/rpm/rpm-file.ts";
import { fixturePath, type ManifestRow, manifestRows } from "../helpers/fixtures.ts";
import { queryRpms, type RpmFacts, sigkeyFromFacts } from "../helpers/rpm-query.ts";

interface Case {
  row: ManifestRow;
  facts: RpmFacts;
  header: RpmHeader;
}

let cases: Case[] = [];

/** Decoded signatures of the rpm-6 OPENPGP signature tag (278), if any. */
function openpgpTagPackets(c: Case): Uint8Array[] {
  const layout = parseLayout(new Uint8Array(readFileSync(fixturePath(c.row.path))));
  if (!layout.ok) return [];
  return (readStrings(layout.signature, 278) ?? []).map(
    (t) => new Uint8Array(Buffer.from(t, "base64")),
  );
}

/** New-format packet whose body starts with version 6 (gpg 2.2 cannot read those). */
function isV6Packet(p: Uint8Array): boolean {
  const l0 = p[1] ?? 0;
  const bodyAt = l0 < 192 ? 2 : l0 < 224 ? 3 : 6;
  return p[bodyAt] === 6;
}

async function gpgKeyId(packet: Uint8Array): Promise<string> {
  const child = promisify(execFile)("gpg", ["--list-packets"], { encoding: "utf8" });
  child.child.stdin?.end(packet);
  const { stdout } = await child;
  const m = /keyid ([0-9A-F]{16})/.exec(stdout);
  if (!m?.[1]) throw new Error(`gpg found no key id: ${stdout}`);
  return m[1].toLowerCase();
}

beforeAll(async () => {
  const rows = manifestRows();
  const [facts, headers] = await Promise.all([
    queryRpms(rows.map((r) => fixturePath(r.path))),
    Promise.all(rows.map((r) => readRpmFileHeader(fixturePath(r.path)))),
  ]);
  cases = rows.map((row, i) => ({
    row,
    facts: facts[i] as RpmFacts,
    header: headers[i] as RpmHeader,
  }));
});

const none = (v: string | number | undefined) =>
  v === undefined || v === "" ? "(none)" : String(v);
/** rpm prints `(none)` for an absent tag and `` for an empty one; both are `""` (or 0) for us. */
const rpmStr = (s: string | undefined) => (s === "(none)" ? "" : s);
const rpmNum = (s: string | undefined) => (s === "(none)" ? "0" : s);

/** Collect "<file>: <what> ours=… rpm=…" lines so one failure shows every difference. */
function differences(pick: (c: Case) => [string, unknown, unknown][]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    for (const [what, ours, theirs] of pick(c)) {
      const a = JSON.stringify(ours);
      const b = JSON.stringify(theirs);
      if (a !== b) out.push(`${c.row.path}: ${what} ours=${a} rpm=${b}`.slice(0, 400));
    }
  }
  return out;
}

describe("RPM header reader vs rpm -qp on every fixture", () => {
  test("covers every rpm in MANIFEST.tsv", () => {
    expect(cases.length).toBe(813);
  });

  test("NEVRA, arch, source flag and sourcerpm", () => {
    expect(
      differences(({ header: h, facts: { scalars: s } }) => [
        ["name", h.name, s.NAME],
        ["epoch", none(h.epoch), s.EPOCH],
        ["version", h.version, s.VERSION],
        ["release", h.release, s.RELEASE],
        ["arch", h.arch, s.ARCH],
        ["isSource", h.isSource, s.SOURCERPM === "(none)"],
        ["sourcerpm", h.isSource ? "(none)" : none(h.sourcerpm), s.SOURCERPM],
      ]),
    ).toEqual([]);
    expect(cases.filter((c) => c.header.isSource).length).toBe(68);
  });

  test("descriptive fields, sizes and build time", () => {
    expect(
      differences(({ header: h, facts: { scalars: s } }) => [
        ["summary", h.summary, rpmStr(s.SUMMARY)],
        ["description", h.description, rpmStr(s.DESCRIPTION)],
        ["license", h.license, rpmStr(s.LICENSE)],
        ["vendor", h.vendor, rpmStr(s.VENDOR)],
        ["group", h.group, rpmStr(s.GROUP)],
        ["buildhost", h.buildhost, rpmStr(s.BUILDHOST)],
        ["url", h.url, rpmStr(s.URL)],
        ["packager", h.packager, rpmStr(s.PACKAGER)],
        ["buildtime", none(h.buildTime), s.BUILDTIME],
        ["size", String(h.installedSize), s.LONGSIZE],
        ["archivesize", String(h.archiveSize), rpmNum(s.LONGARCHIVESIZE)],
      ]),
    ).toEqual([]);
  });

  test("every dependency kind with flags and versions", () => {
    const kinds = [
      "provides",
      "requires",
      "conflicts",
      "obsoletes",
      "recommends",
      "suggests",
      "supplements",
      "enhances",
    ] as const;
    expect(differences(({ header, facts }) => kinds.map((k) => [k, header[k], facts[k]]))).toEqual(
      [],
    );
    const total = cases.reduce((n, c) => n + kinds.reduce((m, k) => m + c.header[k].length, 0), 0);
    expect(total).toBeGreaterThan(10_000);
  });

  test("file list with modes, flags and sizes", () => {
    expect(
      differences(({ header, facts }) => [
        [
          "files",
          header.files.map((f) => ({ path: f.path, mode: f.mode, flags: f.flags, size: f.size })),
          facts.files,
        ],
      ]),
    ).toEqual([]);
    const dirs = cases.flatMap((c) => c.header.files.filter((f) => f.type === "dir"));
    const ghosts = cases.flatMap((c) => c.header.files.filter((f) => f.type === "ghost"));
    expect(dirs.length).toBeGreaterThan(0);
    expect(ghosts.length).toBeGreaterThan(0);
  });

  test("sigkey matches rpm's pgpsig rendering (Koji tag order)", () => {
    // rpm 4.18 cannot see rpm-6 OPENPGP-tag signatures, nor parse ECDSA ones;
    // those are checked against gpg and the key table below.
    const unseenByRpm = (c: Case) =>
      openpgpTagPackets(c).length > 0 || c.row.path.includes("ecdsa");
    expect(
      differences((c) =>
        unseenByRpm(c) ? [] : [["sigkey", c.header.sigkey, sigkeyFromFacts(c.facts)]],
      ),
    ).toEqual([]);
    const signed = cases.filter((c) => c.header.sigkey !== null);
    expect(signed.length).toBeGreaterThan(180);
  });

  test("sigkey from rpm-6 OPENPGP tag (v4 packets) matches gpg --list-packets", async () => {
    const withTag = cases.filter((c) => openpgpTagPackets(c).length > 0);
    expect(withTag.length).toBeGreaterThan(5);
    let checked = 0;
    for (const c of withTag) {
      const first = openpgpTagPackets(c)[0];
      if (!first || first[0] === undefined || isV6Packet(first)) continue;
      expect(c.header.sigkey, c.row.path).toBe((await gpgKeyId(first)).slice(-8));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  test("ECDSA signature that rpm 4.18 rejects still yields the signer's key id", () => {
    const c = cases.find((x) => x.row.path.includes("rpm-basic-with-ecdsa"));
    // keys/rpm-rs/v4/rpm-testkey-v4-ecdsa-nistp256.asc is 105c3db6d139a931.
    expect(c?.header.sigkey).toBe("d139a931");
  });

  test("sigkey of real distro-signed packages", () => {
    const key = (suffix: string) => cases.find((c) => c.row.path.endsWith(suffix))?.header.sigkey;
    expect(key("centos7-multilib/libuuid-2.23.2-65.el7.x86_64.rpm")).toBe("f4a80eb5");
    expect(key("test_assets/monkeysphere-0.37-1.el7.noarch.rpm")).toBe("352c64e5");
    expect(key("test_assets/rpm-sign-4.15.1-1.fc31.x86_64.rpm")).toBe("3c3359c4");
    expect(key("history/7e49cfd6d5/389-ds-base-devel-1.3.8.4-15.el7.x86_64.rpm")).toBeNull();
  });

  test("header byte range is inside the file and matches rpm's lead+signature layout", () => {
    for (const c of cases) {
      expect(c.header.headerStart % 8).toBe(0);
      expect(c.header.headerStart).toBeGreaterThan(96 + 16);
      expect(c.header.headerEnd).toBeGreaterThan(c.header.headerStart);
      expect(c.header.headerEnd).toBeLessThanOrEqual(c.row.bytes);
    }
  });
});
