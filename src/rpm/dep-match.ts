/**
 * rpm's dependency range semantics (`rpmdsCompare`): does a provide with an
 * optional version satisfy a require/conflict/obsolete with an optional
 * version? Used by the depsolver for every versioned match.
 */
import { rpmvercmp } from "./evr.ts";
import type { Dep, DepFlag } from "./types.ts";

const LESS = 2;
const GREATER = 4;
const EQUAL = 8;

const SENSE: Record<DepFlag, number> = {
  LT: LESS,
  GT: GREATER,
  EQ: EQUAL,
  LE: LESS | EQUAL,
  GE: GREATER | EQUAL,
};

/**
 * Compare two dep EVRs like rpm: a missing epoch is 0, and when either side
 * has no release only epoch:version are compared (so `foo = 1.0` matches a
 * provide `foo = 1.0-5`).
 */
export function compareDepEvr(a: Dep, b: Dep): number {
  const ea = Number(a.epoch || 0);
  const eb = Number(b.epoch || 0);
  if (ea !== eb) return ea < eb ? -1 : 1;
  const v = rpmvercmp(a.ver ?? "", b.ver ?? "");
  if (v !== 0) return v;
  if (!a.rel || !b.rel) return 0;
  return rpmvercmp(a.rel, b.rel);
}

/**
 * True when the ranges of `provide` and `require` overlap. Names are not
 * compared (the caller looked the provide up by name). An unversioned side
 * matches everything.
 */
export function rangesOverlap(provide: Dep, require: Dep): boolean {
  if (!provide.flags || !require.flags) return true;
  const a = SENSE[provide.flags];
  const b = SENSE[require.flags];
  const sense = compareDepEvr(provide, require);
  if (sense < 0) return (a & GREATER) !== 0 || (b & LESS) !== 0;
  if (sense > 0) return (a & LESS) !== 0 || (b & GREATER) !== 0;
  return (
    ((a & EQUAL) !== 0 && (b & EQUAL) !== 0) ||
    ((a & LESS) !== 0 && (b & LESS) !== 0) ||
    ((a & GREATER) !== 0 && (b & GREATER) !== 0)
  );
}

const OPS: Record<DepFlag, string> = { LT: "<", GT: ">", EQ: "=", LE: "<=", GE: ">=" };

/** `name op [epoch:]ver[-rel]` as rpm prints a dependency. */
export function formatDep(d: Dep): string {
  if (!d.flags) return d.name;
  const epoch = d.epoch && d.epoch !== "0" ? `${d.epoch}:` : "";
  const rel = d.rel ? `-${d.rel}` : "";
  return `${d.name} ${OPS[d.flags]} ${epoch}${d.ver ?? ""}${rel}`;
}

/** Parse `name [op evr]` (as in rich-dep leaves and request strings). */
export function parseDepString(s: string): Dep {
  const m = /^(\S+)\s*(<=|>=|=|<|>|==)\s*(\S+)$/.exec(s.trim());
  if (!m) return { name: s.trim() };
  const [, name = "", op = "", evr = ""] = m;
  const flags: DepFlag =
    op === "<=" ? "LE" : op === ">=" ? "GE" : op === "<" ? "LT" : op === ">" ? "GT" : "EQ";
  const colon = evr.indexOf(":");
  const epoch = colon >= 0 ? evr.slice(0, colon) : undefined;
  const rest = colon >= 0 ? evr.slice(colon + 1) : evr;
  const dash = rest.lastIndexOf("-");
  const dep: Dep = { name, flags, ver: dash >= 0 ? rest.slice(0, dash) : rest };
  if (epoch !== undefined) dep.epoch = epoch;
  if (dash >= 0) dep.rel = rest.slice(dash + 1);
  return dep;
}
