/**
 * Package rules, as libsolv's `rules.c` makes them for a fresh install
 * (rpm dist type, `implicitobsoleteusescolors` on as in Fedora/RHEL builds):
 *
 * - requires: `(-p | providers…)`; a requirement nothing provides makes `p`
 *   uninstallable (`-p`, weak);
 * - conflicts and obsoletes: `(-p | -q)` (weak), rich conflicts as the
 *   clauses of their negation; other versions of the same name and colour
 *   (x86_64 vs i686 may coexist) likewise;
 * - inferior arches: an i686 package needs its x86_64 twin of the same EVR
 *   when the name has an x86_64 build (lock-step multilib, weak).
 *
 * Rules are made for every package reachable from the jobs through
 * requires, recommends and suggests (libsolv's `addedmap`), plus packages
 * whose supplements/enhances could hold on those; `SYSTEM` (lookaside,
 * rpmlib) satisfies a requirement outright and is never conflicted with.
 */
import type { PackagePool } from "./package-pool.ts";
import { IN_REPO } from "./package-pool.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { RichDep } from "./rich-deps.ts";
import {
  EXPAND,
  INVERT,
  isComplex,
  normalizeComplex,
  positiveLiterals,
  TODNF,
} from "./rich-normalize.ts";
import type { SolverDeps } from "./sat-deps.ts";
import type { Rules } from "./sat-rules.ts";
import type { Dep, PackageRecord } from "./types.ts";

export interface RuleContext {
  pool: PackagePool;
  deps: SolverDeps;
  rules: Rules;
  /** libsolv arch score: 1 noarch, 0x10001, 0x20001… by preference, 0 unknown. */
  archScore(id: number): number;
}

/** libsolv `pool_colormatch` for rpm: 32-bit and 64-bit builds don't replace each other. */
export function colorMatch(a: string, b: string): boolean {
  if (a === b) return true;
  return (archColor(a) & archColor(b)) !== 0;
}

function archColor(arch: string): number {
  if (arch === "noarch") return 255;
  return arch === "s390x" || arch.includes("64") ? 2 : 1;
}

/** `epoch:version-release` as libsolv stores it (epoch 0 omitted). */
export function evrString(p: { epoch?: string; version: string; release: string }): string {
  const e = p.epoch && p.epoch !== "0" ? `${p.epoch}:` : "";
  return `${e}${p.version}-${p.release}`;
}

/** libsolv `solver_addpkgrulesforsolvable`: rules for `start` and all it reaches. */
export function addRulesFor(ctx: RuleContext, start: number, m: Uint8Array): void {
  const { pool, deps, rules } = ctx;
  const data = () => deps.lists.data;
  const workq = [start];
  for (let wi = 0; wi < workq.length; wi++) {
    const n = workq[wi] ?? 0;
    if (m[n]) continue;
    m[n] = 1;
    const s = pool.record(n);
    const push = (id: number) => {
      if (!m[id]) workq.push(id);
    };
    for (const req of s.requires) {
      const node = deps.node(req);
      if (!node) {
        rules.add(-n, 0, 0, true);
        continue;
      }
      if (isComplex(node)) {
        addComplexRules(ctx, n, node, false, push);
        continue;
      }
      const dp = deps.whatprovides(node);
      const d = data();
      if (d[dp] === SYSTEM) continue;
      if (d[dp] === 0) {
        rules.add(-n, 0, 0, true);
        continue;
      }
      let self = false;
      for (let i = dp; d[i] !== 0; i++) if (d[i] === n) self = true;
      if (self) continue;
      rules.add(-n, 0, dp);
      for (let i = dp; deps.lists.data[i] !== 0; i++) push(deps.lists.data[i] ?? 0);
    }
    for (const con of s.conflicts) {
      const node = deps.node(con);
      if (!node) continue;
      if (isComplex(node)) {
        addComplexRules(ctx, n, node, true, push);
        continue;
      }
      for (const p of deps.providers(node)) {
        if (p === n || p === SYSTEM) continue;
        rules.add(-n, -p, 0, true);
      }
    }
    for (const obs of s.obsoletes) {
      const node = deps.node(obs);
      if (!node) continue;
      for (const p of deps.providers(node)) {
        if (p === n || p === SYSTEM || !matchesNevr(pool, pool.record(p), node)) continue;
        rules.add(-n, -p, 0, true);
      }
    }
    for (const p of namesakes(pool, s.name)) {
      if (p === n) continue;
      const ps = pool.record(p);
      if (!colorMatch(s.arch, ps.arch)) continue;
      if (m[p]) continue;
      rules.add(-n, -p, 0, true);
    }
    const a = ctx.archScore(n);
    if (a !== 1) {
      const evr = evrString(s);
      for (const p of namesakes(pool, s.name)) {
        if (m[p] || evrString(pool.record(p)) !== evr) continue;
        const pa = ctx.archScore(p);
        if (pa === 0 || pa === 1 || pa >= a) continue;
        workq.push(p);
      }
    }
    for (const weak of [s.recommends, s.suggests]) {
      for (const dep of weak) {
        const node = deps.node(dep);
        if (!node) continue;
        if (isComplex(node)) positiveLiterals(deps, node, push);
        else for (const p of deps.providers(node)) push(p);
      }
    }
  }
}

/** libsolv `solver_addpkgrulesforweak`: packages that could supplement or enhance `m`. */
export function addRulesForWeak(ctx: RuleContext, candidates: readonly number[], m: Uint8Array) {
  const { pool, deps } = ctx;
  const count = candidates.length;
  for (let i = 0, n = 0; n < count; i++, n++) {
    if (i === count) i = 0;
    const id = candidates[i] ?? 0;
    if (m[id]) continue;
    const s = pool.record(id);
    const hit = (list: Dep[]) =>
      list.some((dep) => {
        const node = deps.node(dep);
        return node !== null && deps.possible(node, m);
      });
    if (!hit(s.supplements) && !hit(s.enhances)) continue;
    addRulesFor(ctx, id, m);
    n = 0;
  }
}

/** libsolv `solver_addinfarchrules` with lock-step: returns nothing, adds weak rules. */
export function addInfarchRules(ctx: RuleContext, m: Uint8Array, nsolvables: number): void {
  const { pool, rules, deps } = ctx;
  for (let i = 2; i < nsolvables; i++) {
    if (!m[i]) continue;
    const s = pool.record(i);
    const same = namesakes(pool, s.name);
    let first = true;
    let best = 0;
    for (const p of same) {
      if (!m[p]) continue;
      if (p === i) first = false;
      if (first) break;
      const a = ctx.archScore(p);
      if (a !== 0 && a !== 1 && (best === 0 || a < best)) best = a;
    }
    if (first) continue;
    const bad: number[] = [];
    for (const p of same) {
      if (!m[p]) continue;
      const a = ctx.archScore(p);
      if (a !== 1 && best !== 0 && ((a ^ best) & 0xffff0000) !== 0) bad.push(p);
    }
    for (const p of bad) {
      const ps = pool.record(p);
      const evr = evrString(ps);
      const lsq: number[] = [];
      for (const p2 of same) {
        const s2 = pool.record(p2);
        if (p2 === p || evrString(s2) !== evr || s2.arch === ps.arch) continue;
        const a = ctx.archScore(p2);
        // libsolv masks with 0xffff000 here (sic); kept for identical rules.
        if (a !== 0 && (a === 1 || ((a ^ best) & 0xffff000) === 0)) lsq.push(p2);
      }
      if (lsq.length < 2) rules.add(-p, lsq[0] ?? 0, 0, true);
      else rules.add(-p, 0, deps.lists.add(lsq), true);
    }
  }
}

/** Installable compose packages named `name`, ascending ids. */
export function namesakes(pool: PackagePool, name: string): number[] {
  const out: number[] = [];
  for (const key of pool.byName(name)) {
    const id = pool.idOf(key);
    if (pool.kindOf(id) === IN_REPO) out.push(id);
  }
  return out;
}

/** libsolv `pool_match_nevr`: the package itself (not its provides) matches the tree. */
export function matchesNevr(pool: PackagePool, p: PackageRecord, node: RichDep): boolean {
  if (node.kind === "leaf") return pool.matchesNevr(p, node.dep);
  const [a, b] = node.args;
  if (!a || !b) return false;
  switch (node.op) {
    case "or":
      return matchesNevr(pool, p, a) || matchesNevr(pool, p, b);
    case "and":
    case "with":
      return matchesNevr(pool, p, a) && matchesNevr(pool, p, b);
    case "without":
      return matchesNevr(pool, p, a) && !matchesNevr(pool, p, b);
    default:
      return false;
  }
}

/** libsolv `add_complex_deprules` (requires: CNF; conflicts: CNF of the negation). */
function addComplexRules(
  ctx: RuleContext,
  n: number,
  node: RichDep,
  conflicts: boolean,
  push: (id: number) => void,
): void {
  const { deps, rules } = ctx;
  const bq: number[] = [];
  const r = normalizeComplex(deps, node, bq, conflicts ? TODNF | EXPAND | INVERT : 0);
  if (r === 0) {
    rules.add(-n, 0, 0, true);
    return;
  }
  if (r === 1) return;
  for (let i = 0; i < bq.length; i++) {
    const x = bq[i] ?? 0;
    if (x === 0) continue;
    if (x === deps.marker) {
      const dp = bq[i + 1] ?? 0;
      i += 2;
      const list = deps.lists.toArray(dp);
      if (list.includes(n)) continue;
      rules.add(-n, 0, dp, conflicts);
      for (const p of list) push(p);
      continue;
    }
    if ((bq[i + 1] ?? 0) === 0) {
      const p2 = x;
      i++;
      if (-n === p2) {
        if (!conflicts) rules.add(-n, 0, 0, true);
        continue;
      }
      if (n === p2) continue;
      rules.add(-n, p2, 0, conflicts);
      if (p2 > 0) push(p2);
      continue;
    }
    const block: number[] = [];
    while ((bq[i] ?? 0) !== 0) block.push(bq[i++] ?? 0);
    let j = 0;
    for (; j < block.length; j++) {
      const v = block[j] ?? 0;
      if (v === -n) break;
      if (v > -n) {
        block.splice(j, 0, -n);
        break;
      }
    }
    if (j === block.length) block.push(-n);
    if (block.includes(n)) continue;
    rules.add(block[0] ?? 0, 0, deps.lists.add(block, 1), conflicts);
    for (const v of block) if (v > 0) push(v);
  }
}
