/**
 * The shared real-RPM fixtures (`../shared/fixtures` beside the checkout,
 * read-only; see its PROVENANCE.md). `ODCS_FIXTURES` overrides the location.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";

const fixturesPath =
  process.env.ODCS_FIXTURES ?? resolve(import.meta.dirname, "../../../shared/fixtures");
/** Real path: tests compare paths the worker resolved through symlinks. */
export const FIXTURES_DIR = existsSync(fixturesPath) ? realpathSync(fixturesPath) : fixturesPath;

export interface ManifestRow {
  /** Relative to {@link FIXTURES_DIR}. */
  path: string;
  sha256: string;
  bytes: number;
  nevra: string;
  arch: string;
  kind: "bin" | "src";
  sigKeyIds: string;
  rpmK: string;
  flags: string;
}

/** Every .rpm listed in MANIFEST.tsv (rpms/ and repos/). */
export function manifestRows(): ManifestRow[] {
  const text = readFileSync(join(FIXTURES_DIR, "MANIFEST.tsv"), "utf8");
  return text
    .split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const c = l.split("\t");
      return {
        path: c[0] ?? "",
        sha256: c[1] ?? "",
        bytes: Number(c[2]),
        nevra: c[3] ?? "",
        arch: c[4] ?? "",
        kind: c[5] === "src" ? "src" : "bin",
        sigKeyIds: c[6] ?? "",
        rpmK: c[8] ?? "",
        flags: c[9] ?? "",
      };
    });
}

export const fixturePath = (rel: string) => join(FIXTURES_DIR, rel);
