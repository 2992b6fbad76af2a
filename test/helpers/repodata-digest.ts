/**
 * A digest of parsed repodata that changes when any parsed value does:
 * sha256 over every record as JSON with sorted keys (so object shapes and
 * property order do not matter, only values).
 */
import { createHash } from "node:crypto";
import type { PackageRecord } from "../../src/rpm/types.ts";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

export function digestPackages(packages: readonly PackageRecord[]): string {
  const hash = createHash("sha256");
  for (const p of packages) hash.update(`${JSON.stringify(canonical(p))}\n`);
  return hash.digest("hex");
}
