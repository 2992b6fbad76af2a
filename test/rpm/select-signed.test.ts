/**
 * The result-only signature check (`select-signed.ts`) on real RPMs signed
 * with throwaway keys, in several repositories: the sigkeys of the records
 * are read from the RPM headers, as the worker does.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { type Repodata, readRepodata } from "../../src/rpm/repodata-read.ts";
import { readRpmFileHeader } from "../../src/rpm/rpm-file.ts";
import { nevraOf, type SelectResult, selectPackages } from "../../src/rpm/select.ts";
import {
  isSameBuild,
  preferSignedCopies,
  signatureCandidates,
} from "../../src/rpm/select-signed.ts";
import { tempDir } from "../helpers/db.ts";
import { buildRpms, createRepo, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";

const APP: RpmDescription = { name: "ss-app", requires: ["ss-lib"], files: ["/usr/bin/ss-app"] };
const LIB: RpmDescription = { name: "ss-lib", files: ["/usr/share/ss-lib/data"] };
/** Same NEVRA as LIB, another build: one more dependency. */
const LIB_REBUILT: RpmDescription = { ...LIB, requires: ["ss-extra"] };
const EXTRA: RpmDescription = { name: "ss-extra", files: ["/usr/share/ss-extra/data"] };
const UNRELATED = Array.from({ length: 20 }, (_, i) => ({
  name: `ss-unrelated-${i}`,
  files: [`/usr/share/ss-unrelated-${i}`],
}));

let keyA: TestKey;
let keyB: TestKey;
/** app (A), lib (A), 20 unrelated (unsigned). */
let repoA: Repodata;
/** lib (B). */
let repoB: Repodata;
/** lib (unsigned). */
let repoPlain: Repodata;
/** lib rebuilt with another dependency (A), extra (A). */
let repoRebuilt: Repodata;

async function repoOf(paths: string[]): Promise<Repodata> {
  const dir = await createRepo(tempDir("odcs-select-signed-"), paths);
  const repo = await readRepodata((p) => readFile(join(dir, p)));
  // What fillSigkeys does in the worker, from the real headers.
  for (const pkg of repo.packages)
    pkg.sigkey = (await readRpmFileHeader(join(dir, pkg.location))).sigkey;
  return repo;
}

beforeAll(async () => {
  const [built, a, b] = await Promise.all([
    buildRpms([APP, LIB, LIB_REBUILT, EXTRA, ...UNRELATED]),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
  keyA = a;
  keyB = b;
  const [app, lib, rebuilt, extra, ...unrelated] = built.map((r) => r.path);
  if (!app || !lib || !rebuilt || !extra) throw new Error("rpmbuild built too little");
  repoA = await repoOf([await signRpm(app, keyA), await signRpm(lib, keyA), ...unrelated]);
  repoB = await repoOf([await signRpm(lib, keyB)]);
  repoPlain = await repoOf([lib]);
  repoRebuilt = await repoOf([await signRpm(rebuilt, keyA), await signRpm(extra, keyA)]);
}, 120_000);

const input = (repos: Repodata[], packages: string[]) => ({
  repos,
  lookaside: [],
  packages,
  arch: "x86_64",
  noDeps: false,
  multilibArches: [],
  multilibMethods: [],
});
const solve = (repos: Repodata[], packages: string[]): SelectResult =>
  selectPackages({ ...input(repos, packages), sigkeys: null });

/** Selected package name → its sigkey and repo index. */
const picked = (r: SelectResult) =>
  Object.fromEntries(r.packages.map((p) => [p.pkg.name, { sigkey: p.pkg.sigkey, repo: p.repo }]));

describe("preferSignedCopies", () => {
  test("unrelated unsigned packages in the repo do not matter", () => {
    const solved = solve([repoA], ["ss-app"]);
    const checked = preferSignedCopies(solved, [repoA], [keyA.sigkey]);
    expect(checked.unsigned).toEqual([]);
    expect(picked(checked)).toEqual({
      "ss-app": { sigkey: keyA.sigkey, repo: 0 },
      "ss-lib": { sigkey: keyA.sigkey, repo: 0 },
    });
    // The whole-package-set mode of selectPackages fails the same request on them.
    const wholeSet = selectPackages({ ...input([repoA], ["ss-app"]), sigkeys: [keyA.sigkey] });
    expect(wholeSet.unsigned).toHaveLength(UNRELATED.length);
  });

  test("the key preference order picks the copy among repos; ties keep the solver's", () => {
    const repos = [repoA, repoB];
    const solved = solve(repos, ["ss-lib"]);
    expect(picked(solved)["ss-lib"]?.repo).toBe(0);
    const lib = (keys: string[]) => picked(preferSignedCopies(solved, repos, keys))["ss-lib"];
    expect(lib([keyB.sigkey, keyA.sigkey])).toEqual({ sigkey: keyB.sigkey, repo: 1 });
    expect(lib([keyA.sigkey, keyB.sigkey])).toEqual({ sigkey: keyA.sigkey, repo: 0 });
    expect(lib([keyB.sigkey])).toEqual({ sigkey: keyB.sigkey, repo: 1 });
    // The solver took the unsigned copy (first repo); key A's copy replaces it.
    const plainFirst = solve([repoPlain, repoA], ["ss-lib"]);
    expect(picked(plainFirst)["ss-lib"]).toEqual({ sigkey: null, repo: 0 });
    expect(
      picked(preferSignedCopies(plainFirst, [repoPlain, repoA], [keyA.sigkey, ""]))["ss-lib"],
    ).toEqual({ sigkey: keyA.sigkey, repo: 1 });
  });

  test('an unsigned dependency is named; "" allows it', () => {
    const solved = solve([repoPlain, repoA], ["ss-app"]);
    const repos = [repoPlain, repoA];
    // Only ss-app's copy in repo A and both ss-lib copies are looked at.
    expect(signatureCandidates(solved, repos).map((c) => `${c.pkg.name}@${c.repo}`)).toEqual([
      "ss-app@1",
      "ss-lib@0",
      "ss-lib@1",
    ]);
    const onlyPlain = solve([repoPlain, repoB], ["ss-lib"]);
    expect(preferSignedCopies(onlyPlain, [repoPlain, repoB], [keyA.sigkey]).unsigned).toEqual([
      "ss-lib-1.0-1.noarch",
    ]);
    expect(preferSignedCopies(onlyPlain, [repoPlain, repoB], [keyA.sigkey, ""]).unsigned).toEqual(
      [],
    );
  });

  test('a copy whose signature is unknown is never acceptable, even with ""', () => {
    const solved = solve([repoPlain], ["ss-lib"]);
    const [rec] = repoPlain.packages;
    if (!rec) throw new Error("fixture");
    const known = rec.sigkey;
    rec.sigkey = undefined;
    try {
      expect(preferSignedCopies(solved, [repoPlain], [""]).unsigned).toEqual([
        "ss-lib-1.0-1.noarch",
      ]);
    } finally {
      rec.sigkey = known;
    }
  });

  test("a copy of the same NEVRA from another build is not swapped in", () => {
    const repos = [repoPlain, repoRebuilt];
    const solved = solve(repos, ["ss-lib"]);
    const [plainLib] = repoPlain.packages;
    const rebuiltLib = repoRebuilt.packages.find((p) => p.name === "ss-lib");
    if (!plainLib || !rebuiltLib) throw new Error("fixture");
    expect(nevraOf(rebuiltLib)).toBe(nevraOf(plainLib));
    expect(isSameBuild(plainLib, rebuiltLib)).toBe(false);
    const signedCopy = repoB.packages[0];
    if (!signedCopy) throw new Error("fixture");
    expect(signedCopy.pkgid).not.toBe(plainLib.pkgid);
    expect(isSameBuild(plainLib, signedCopy)).toBe(true);
    // Key A signed the rebuild only: ss-lib as solved (no ss-extra) has no acceptable copy.
    expect(signatureCandidates(solved, repos)).toHaveLength(1);
    expect(preferSignedCopies(solved, repos, [keyA.sigkey]).unsigned).toEqual([
      "ss-lib-1.0-1.noarch",
    ]);
  });
});
