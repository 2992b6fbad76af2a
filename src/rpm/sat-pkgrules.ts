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
import type { RuleTemplate, Scratch } from "./pool-cache.ts";
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
import { compareRules } from "./sat-rules.ts";
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

/** The packages that have rules (libsolv's `addedmap`), with a work queue. */
export class AddedMap {
  readonly m: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly workq: Int32Array;

  constructor(nsolvables: number, scratch: Scratch) {
    this.m = scratch.uint8("added.m", nsolvables);
    this.queued = scratch.uint8("added.queued", nsolvables);
    this.workq = scratch.int32("added.workq", nsolvables, true);
  }

  /**
   * libsolv `solver_addpkgrulesforsolvable`: rules for `start` and every
   * package it reaches that has none yet.
   */
  addRulesFor(ctx: RuleContext, start: number): void {
    const { rules, pool } = ctx;
    const { m, queued, workq } = this;
    const templates = pool.cache.templates;
    if (m[start] || queued[start]) return;
    let head = 0;
    let tail = 0;
    workq[tail++] = start;
    queued[start] = 1;
    while (head < tail) {
      const n = workq[head++] ?? 0;
      if (m[n]) continue;
      m[n] = 1;
      let t = templates[n];
      if (!t) {
        t = buildTemplate(ctx, n);
        templates[n] = t;
      }
      rules.appendAll(t.rules);
      const visit = t.visit;
      for (let i = 0; i < visit.length; i++) {
        const q = visit[i] ?? 0;
        if (!queued[q]) {
          queued[q] = 1;
          workq[tail++] = q;
        }
      }
    }
  }
}

/**
 * The same-name rules (`-n | -q`, weak) of every name with a package in
 * `m`: one per pair of builds of matching colour of which one is in `m` —
 * the set libsolv makes while visiting — emitted bucket by bucket in rule
 * order, which keeps `Rules.unify` cheap for names with many versions.
 */
export function addSameNameRules(ctx: RuleContext, added: AddedMap, nsolvables: number): void {
  const { pool, rules } = ctx;
  const { m } = added;
  const done = pool.cache.scratch.uint8("samename.done", nsolvables);
  const colors = archColors(pool);
  for (let n = 2; n < nsolvables; n++) {
    if (!m[n] || done[n]) continue;
    const group = namesakesOf(pool, n);
    for (const id of group) done[id] = 1;
    if (group.length < 2) continue;
    for (let j = group.length - 1; j > 0; j--) {
      const hi = group[j] ?? 0;
      const hiColor = colors[hi] ?? 0;
      for (let i = j - 1; i >= 0; i--) {
        const lo = group[i] ?? 0;
        if ((m[hi] || m[lo]) && (hiColor & (colors[lo] ?? 0)) !== 0) {
          rules.append(-hi, 0, -lo, true);
        }
      }
    }
  }
}

/** The rules of package `n` (see `RuleTemplate`). */
function buildTemplate(ctx: RuleContext, n: number): RuleTemplate {
  const { pool, deps } = ctx;
  const out: number[] = [];
  const visit: number[] = [];
  const add = (p: number, p2: number, d: number, weak: boolean) => {
    const rule = ctx.rules.normalized(p, p2, d);
    if (rule) out.push(rule[0], rule[1], rule[2], weak ? 1 : 0);
  };
  const push = (id: number) => visit.push(id);
  const s = pool.record(n);
  for (const req of s.requires) {
    const node = deps.node(req);
    if (!node) {
      add(-n, 0, 0, true);
      continue;
    }
    if (isComplex(node)) {
      addComplexRules(ctx, n, node, false, add, push);
      continue;
    }
    const dp = deps.whatprovides(node);
    const data = deps.lists.data;
    if (data[dp] === SYSTEM) continue;
    if (data[dp] === 0) {
      add(-n, 0, 0, true);
      continue;
    }
    let self = false;
    for (let i = dp; data[i] !== 0; i++) if (data[i] === n) self = true;
    if (self) continue;
    add(-n, 0, dp, false);
    for (let i = dp; data[i] !== 0; i++) push(data[i] ?? 0);
  }
  for (const con of s.conflicts) {
    const node = deps.node(con);
    if (!node) continue;
    if (isComplex(node)) {
      addComplexRules(ctx, n, node, true, add, push);
      continue;
    }
    for (const p of deps.providers(node)) {
      if (p === n || p === SYSTEM) continue;
      add(-n, -p, 0, true);
    }
  }
  for (const obs of s.obsoletes) {
    const node = deps.node(obs);
    if (!node) continue;
    for (const p of deps.providers(node)) {
      if (p === n || p === SYSTEM || !matchesNevr(pool, pool.record(p), node)) continue;
      add(-n, -p, 0, true);
    }
  }
  const same = namesakes(pool, s.name);
  const a = ctx.archScore(n);
  if (a !== 1) {
    const evr = evrString(s);
    for (const p of same) {
      if (p === n || evrString(pool.record(p)) !== evr) continue;
      const pa = ctx.archScore(p);
      if (pa === 0 || pa === 1 || pa >= a) continue;
      visit.push(p);
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
  return {
    rules: sortedRules(ctx, out),
    visit: Int32Array.from(visit),
  };
}

/** Quadruples in rule order, so `Rules.unify` mostly finds its buckets sorted already. */
function sortedRules(ctx: RuleContext, quads: number[]): Int32Array {
  const data = ctx.deps.lists.data;
  const at = (i: number, k: number) => quads[i * 4 + k] ?? 0;
  const count = quads.length / 4;
  const order = Array.from({ length: count }, (_, i) => i);
  if (count > 1) {
    order.sort((a, b) =>
      compareRules(data, at(a, 0), at(a, 1), at(a, 2), at(b, 0), at(b, 1), at(b, 2)),
    );
  }
  const out = new Int32Array(quads.length);
  order.forEach((i, k) => {
    for (let f = 0; f < 4; f++) out[k * 4 + f] = at(i, f);
  });
  return out;
}

/** libsolv `solver_addpkgrulesforweak`: packages that could supplement or enhance `m`. */
export function addRulesForWeak(ctx: RuleContext, candidates: Int32Array, added: AddedMap) {
  const { pool, deps } = ctx;
  const { m } = added;
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
    added.addRulesFor(ctx, id);
    n = 0;
  }
}

/** libsolv `solver_addinfarchrules` with lock-step: returns nothing, adds weak rules. */
export function addInfarchRules(ctx: RuleContext, m: Uint8Array, nsolvables: number): void {
  const { pool, rules, deps } = ctx;
  const mixed = pool.cache.mixedArches;
  for (let i = 2; i < nsolvables; i++) {
    if (!m[i]) continue;
    if (mixed[i] === 0) markMixedArches(ctx, i);
    if (mixed[i] !== 2) continue;
    const same = namesakesOf(pool, i);
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

/** Note for every build of `i`'s name whether the name has builds of several arch classes. */
function markMixedArches(ctx: RuleContext, i: number): void {
  const { pool } = ctx;
  const same = namesakes(pool, pool.record(i).name);
  let first = 0;
  let mixed = false;
  for (const p of same) {
    const a = ctx.archScore(p);
    if (a === 1 || a === 0) continue;
    if (first === 0) first = a;
    else if (((a ^ first) & 0xffff0000) !== 0) mixed = true;
  }
  const flag = mixed ? 2 : 1;
  pool.cache.mixedArches[i] = flag;
  for (const p of same) pool.cache.mixedArches[p] = flag;
}

/** `archColor` of every solvable (cached per pool). */
function archColors(pool: PackagePool): Uint8Array {
  const { cache } = pool;
  if (cache.colors.length === 0) {
    const colors = new Uint8Array(pool.nsolvables);
    for (let id = 2; id < pool.nsolvables; id++) colors[id] = archColor(pool.record(id).arch);
    cache.colors = colors;
  }
  return cache.colors;
}

/** `namesakes` of the name of solvable `id` (cached per id). */
export function namesakesOf(pool: PackagePool, id: number): Int32Array {
  const groups = pool.cache.groups;
  let group = groups[id];
  if (!group) {
    group = namesakes(pool, pool.record(id).name);
    groups[id] = group;
  }
  return group;
}

/** Installable compose packages named `name`, ascending ids (cached per pool). */
export function namesakes(pool: PackagePool, name: string): Int32Array {
  let ids = pool.cache.namesakes.get(name);
  if (!ids) {
    const out: number[] = [];
    for (const key of pool.byName(name)) {
      const id = pool.idOf(key);
      if (pool.kindOf(id) === IN_REPO) out.push(id);
    }
    ids = Int32Array.from(out);
    pool.cache.namesakes.set(name, ids);
  }
  return ids;
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
  add: (p: number, p2: number, d: number, weak: boolean) => void,
  push: (id: number) => void,
): void {
  const { deps } = ctx;
  const bq: number[] = [];
  const r = normalizeComplex(deps, node, bq, conflicts ? TODNF | EXPAND | INVERT : 0);
  if (r === 0) {
    add(-n, 0, 0, true);
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
      add(-n, 0, dp, conflicts);
      for (const p of list) push(p);
      continue;
    }
    if ((bq[i + 1] ?? 0) === 0) {
      const p2 = x;
      i++;
      if (-n === p2) {
        if (!conflicts) add(-n, 0, 0, true);
        continue;
      }
      if (n === p2) continue;
      add(-n, p2, 0, conflicts || p2 < 0);
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
    // A clause that forbids another package acts as a conflict: weak.
    add(
      block[0] ?? 0,
      0,
      deps.lists.add(block, 1),
      conflicts || block.some((v) => v < 0 && v !== -n),
    );
    for (const v of block) if (v > 0) push(v);
  }
}
