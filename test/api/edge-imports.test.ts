import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

/**
 * DESIGN rule (STYLE §1): src/api, src/db and src/domain import nothing from
 * Node's builtins, so src/edge.ts can bundle them for a Workers runtime.
 */
const ROOT = join(import.meta.dirname, "../..");
const DIRS = ["src/api", "src/db", "src/domain", "src/edge"];
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Module specifiers of static imports/exports, dynamic imports and requires. */
function specifiers(code: string): string[] {
  const re =
    /(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?|\bexport\s+(?:type\s+)?[\w*{}\s,$]+\s+from\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)["'`]([^"'`]+)["'`]/g;
  return [...code.matchAll(re)].map((m) => m[1] ?? "");
}

const isNodeBuiltin = (spec: string) =>
  spec.startsWith("node:") || BUILTINS.has(spec.split("/")[0] ?? spec);

it("the specifier scanner sees every import form", () => {
  const code = [
    'import { a } from "node:fs";',
    "import * as p from 'path';",
    'import type { X } from "crypto";',
    'import "os";',
    'export { y } from "node:stream";',
    'const z = await import("child_process");',
    'const w = require("fs/promises");',
    'import {\n  b,\n  c,\n} from "zlib";',
    'import { ok } from "./local.ts";',
  ].join("\n");
  expect(specifiers(code).filter(isNodeBuiltin)).toEqual([
    "node:fs",
    "path",
    "crypto",
    "os",
    "node:stream",
    "child_process",
    "fs/promises",
    "zlib",
  ]);
});

it("src/api, src/db and src/domain import no Node builtins", () => {
  const offenders: string[] = [];
  let files = 0;
  for (const dir of DIRS) {
    for (const file of sources(join(ROOT, dir))) {
      files++;
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        if (isNodeBuiltin(spec)) offenders.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
  }
  expect(files).toBeGreaterThan(10);
  expect(offenders).toEqual([]);
});
