import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isPrimaryFile } from "../../src/rpm/primary-deps.ts";
import { readRpmFileRecord } from "../../src/rpm/rpm-file.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { DEP_KINDS } from "../../src/rpm/types.ts";
import { fixturePath, manifestRows } from "../helpers/fixtures.ts";
import { type PrimaryPackage, readPrimary } from "../helpers/primary-xml.ts";

const run = promisify(execFile);
let dir = "";
let pairs: { location: string; ours: PackageRecord; theirs: PrimaryPackage }[] = [];

/**
 * createrepo_c over every fixture (symlinked, one subdirectory each so equal
 * file names do not collide); our header-derived records must say what its
 * primary.xml says.
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "odcs-primary-"));
  const rows = manifestRows();
  const locations = rows.map((r, i) => `${i}/${r.path.split("/").at(-1)}`);
  await Promise.all(
    rows.map(async (r, i) => {
      await mkdir(join(dir, String(i)));
      await symlink(fixturePath(r.path), join(dir, locations[i] ?? ""));
    }),
  );
  await run("createrepo_c", ["--no-database", "--workers", "2", "--quiet", dir], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch(() => undefined); // it warns (non-zero) for the few files it rejects
  const primary = readPrimary(dir);
  const records = await Promise.all(
    locations.map((location) => readRpmFileRecord(join(dir, location), { location })),
  );
  pairs = records.flatMap((ours) => {
    const theirs = primary.get(ours.location);
    return theirs ? [{ location: ours.location, ours, theirs }] : [];
  });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("header-derived records vs createrepo_c primary.xml", () => {
  test("createrepo_c took nearly every fixture", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(800);
  });

  test("dependency lists are exactly createrepo_c's", () => {
    const kinds = DEP_KINDS;
    const diffs: string[] = [];
    for (const { location, ours, theirs } of pairs) {
      for (const k of kinds) {
        const a = JSON.stringify(ours[k]);
        const b = JSON.stringify(theirs.deps[k]);
        if (a !== b) diffs.push(`${location} ${k}: ours=${a} createrepo_c=${b}`.slice(0, 600));
      }
    }
    expect(diffs).toEqual([]);
  });

  test("NEVRA, src arch, sourcerpm, sizes, build time and header range", () => {
    const pick = (p: PackageRecord | PrimaryPackage) => ({
      name: p.name,
      arch: p.arch,
      epoch: p.epoch,
      version: p.version,
      release: p.release,
      sourcerpm: p.sourcerpm,
      timeBuild: p.timeBuild,
      sizePackage: p.sizePackage,
      sizeInstalled: p.sizeInstalled,
      sizeArchive: p.sizeArchive,
      headerStart: p.headerStart,
      headerEnd: p.headerEnd,
    });
    const diffs = pairs.flatMap(({ location, ours, theirs }) => {
      const a = JSON.stringify(pick(ours));
      const b = JSON.stringify(pick(theirs));
      return a === b ? [] : [`${location}: ours=${a} createrepo_c=${b}`];
    });
    expect(diffs).toEqual([]);
    expect(pairs.filter((p) => p.ours.arch === "src").length).toBeGreaterThan(60);
  });

  test("primary file subset with dir/ghost types", () => {
    const diffs = pairs.flatMap(({ location, ours, theirs }) => {
      const a = JSON.stringify(ours.files.filter((f) => isPrimaryFile(f.path)));
      const b = JSON.stringify(theirs.files);
      return a === b ? [] : [`${location}: ours=${a} createrepo_c=${b}`.slice(0, 600)];
    });
    expect(diffs).toEqual([]);
  });
});
