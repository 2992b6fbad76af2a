import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

/**
 * DESIGN "Sources: one interface, one file each": sources sit below the
 * worker — they import from rpm/, domain/ and their own shared utilities
 * (errors, limiter, file placement), never from worker/.
 */
const ROOT = join(import.meta.dirname, "../..");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

it("src/sources imports nothing from src/worker", () => {
  const offenders: string[] = [];
  const all = files(join(ROOT, "src/sources"));
  for (const file of all) {
    const code = readFileSync(file, "utf8");
    for (const m of code.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g)) {
      const spec = m[1] ?? m[2] ?? "";
      if (!spec.startsWith(".")) continue;
      const target = relative(ROOT, resolve(file, "..", spec));
      if (target.startsWith("src/worker")) offenders.push(`${relative(ROOT, file)}: ${spec}`);
    }
  }
  expect(all.length).toBeGreaterThan(8);
  expect(offenders).toEqual([]);
});
