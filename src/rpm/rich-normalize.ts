/**
 * Rich (boolean) dependencies as clauses over solvable ids, the way libsolv's
 * `cplxdeps.c` does it, so rules built from them have the literals, and the
 * order, libsolv gives them.
 *
 * A result is a block queue: blocks of literals (solvable id, or its negation)
 * each ended by 0; in CNF every block is a clause, in DNF a conjunction. An
 * unexpanded block is `[marker, offset, 0]`: the provider list at `offset`.
 * `normalize` returns 0 (false: no blocks), 1 (true: no blocks) or -1 (the
 * blocks in `bq`).
 *
 * Operators: `and`, `or`, `if` (a or not b), `unless` (a and not b), each
 * with `else`; `with`/`without` and `or` of simple operands are not
 * "complex" — their provider list stands for them as a plain dependency.
 */
import type { ProviderLists } from "./provider-lists.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { RichDep } from "./rich-deps.ts";

export const TODNF = 1;
export const EXPAND = 2;
export const INVERT = 4;

export interface RichContext {
  lists: ProviderLists;
  /** Marks an unexpanded provider list in a block queue (libsolv: nsolvables). */
  marker: number;
  /** Offset in `lists` of the providers of `node` taken as a plain dependency. */
  whatprovides(node: RichDep): number;
}

/** `and`, `if`, `unless`, or an `or` over one of those (libsolv `pool_is_complex_dep`). */
export function isComplex(node: RichDep): boolean {
  if (node.kind === "leaf") return false;
  if (node.op === "and" || node.op === "if" || node.op === "unless") return true;
  return node.op === "or" && node.args.some(isComplex);
}

/** libsolv `pool_normalize_complex_dep`. */
export function normalizeComplex(ctx: RichContext, node: RichDep, bq: number[], flags: number) {
  const start = bq.length;
  let r = normalize(ctx, node, bq, flags);
  if ((flags & EXPAND) !== 0 && r === -1) expand(ctx, bq, start, 0);
  if ((flags & INVERT) !== 0) r = invert(ctx, bq, start, r);
  return r;
}

/**
 * Every package a positive literal of `node` could stand for (libsolv
 * `pool_add_pos_literals_complex_dep`): rule creation follows these.
 */
export function positiveLiterals(
  ctx: RichContext,
  node: RichDep,
  out: (id: number) => void,
  neg = false,
): void {
  let dep = node;
  let negated = neg;
  while (dep.kind === "op" && dep.op !== "with" && dep.op !== "without") {
    const [a, b] = dep.args;
    if (!a || !b) return;
    positiveLiterals(ctx, a, out, negated);
    if (dep.op === "if" || dep.op === "unless") {
      negated = !negated;
      if (dep.otherwise) positiveLiterals(ctx, dep.otherwise, out, !negated);
    }
    dep = b;
  }
  if (negated) return;
  const data = ctx.lists.data;
  for (let dp = ctx.whatprovides(dep); data[dp] !== 0; dp++) out(data[dp] ?? 0);
}

function normalize(ctx: RichContext, node: RichDep, bq: number[], flags: number): number {
  if (node.kind === "op" && isComplex(node)) {
    const [a, b] = node.args;
    if (!a || !b) return 0;
    switch (node.op) {
      case "if":
        return node.otherwise
          ? ifElse(ctx, a, b, node.otherwise, bq, flags)
          : either(ctx, a, b, bq, flags, TODNF);
      case "unless":
        return node.otherwise
          ? unlessElse(ctx, a, b, node.otherwise, bq, flags)
          : both(ctx, a, b, bq, flags, TODNF);
      case "or":
        return either(ctx, a, b, bq, flags, 0);
      default:
        return both(ctx, a, b, bq, flags, 0);
    }
  }
  const dp = ctx.whatprovides(node);
  const data = ctx.lists.data;
  if (dp <= 2 || data[dp] === 0) return dp === 2 ? 1 : 0;
  if (data[dp] === SYSTEM) return 1;
  if ((flags & TODNF) !== 0) {
    for (let i = dp; data[i] !== 0; i++) bq.push(data[i] ?? 0, 0);
  } else bq.push(ctx.marker, dp, 0);
  return -1;
}

function either(
  ctx: RichContext,
  a: RichDep,
  b: RichDep,
  bq: number[],
  flags: number,
  invflags: number,
): number {
  const start = bq.length;
  const r1 = normalize(ctx, a, bq, flags);
  if (r1 === 1) return 1;
  const mid = bq.length;
  let r2 = normalize(ctx, b, bq, flags ^ invflags);
  if (invflags) r2 = invert(ctx, bq, mid, r2);
  if (r2 === 1) {
    bq.length = start;
    return 1;
  }
  if (r1 === 0) return r2;
  if (r2 === 0) return r1;
  if ((flags & TODNF) === 0) return distribute(ctx, bq, start, mid, flags);
  return -1;
}

function both(
  ctx: RichContext,
  a: RichDep,
  b: RichDep,
  bq: number[],
  flags: number,
  invflags: number,
): number {
  const start = bq.length;
  const r1 = normalize(ctx, a, bq, flags);
  if (r1 === 0) return 0;
  const mid = bq.length;
  let r2 = normalize(ctx, b, bq, flags ^ invflags);
  if (invflags) r2 = invert(ctx, bq, mid, r2);
  if (r2 === 0) {
    bq.length = start;
    return 0;
  }
  if (r1 === 1) return r2;
  if (r2 === 1) return r1;
  if ((flags & TODNF) !== 0) return distribute(ctx, bq, start, mid, flags);
  return -1;
}

/** A IF (B ELSE C) → (A OR ~B) AND (C OR B). */
function ifElse(
  ctx: RichContext,
  a: RichDep,
  b: RichDep,
  c: RichDep,
  bq: number[],
  flags: number,
): number {
  const start = bq.length;
  const r1 = either(ctx, a, b, bq, flags, TODNF);
  if (r1 === 0) return 0;
  const mid = bq.length;
  const r2 = either(ctx, b, c, bq, flags, 0);
  if (r2 === 0) {
    bq.length = start;
    return 0;
  }
  if (r1 === 1) return r2;
  if (r2 === 1) return r1;
  if ((flags & TODNF) !== 0) return distribute(ctx, bq, start, mid, flags);
  return -1;
}

/** A UNLESS (B ELSE C) → (A AND ~B) OR (C AND B). */
function unlessElse(
  ctx: RichContext,
  a: RichDep,
  b: RichDep,
  c: RichDep,
  bq: number[],
  flags: number,
): number {
  const start = bq.length;
  const r1 = both(ctx, a, b, bq, flags, TODNF);
  if (r1 === 1) return 1;
  const mid = bq.length;
  const r2 = both(ctx, b, c, bq, flags, 0);
  if (r2 === 1) {
    bq.length = start;
    return 1;
  }
  if (r1 === 0) return r2;
  if (r2 === 0) return r1;
  if ((flags & TODNF) === 0) return distribute(ctx, bq, start, mid, flags);
  return -1;
}

/** Replace unexpanded blocks from `start` by their providers; returns where `split` moved. */
function expand(ctx: RichContext, bq: number[], start: number, split: number): number {
  const end = bq.length;
  const data = ctx.lists.data;
  let newsplit = 0;
  let i = start;
  for (; i < end; i++) {
    if (i === split) newsplit = bq.length - (end - start);
    const x = bq[i] ?? 0;
    if (x === ctx.marker) {
      for (let dp = bq[++i] ?? 0; data[dp] !== 0; dp++) bq.push(data[dp] ?? 0);
    } else bq.push(x);
  }
  if (i === split) newsplit = bq.length - (end - start);
  bq.splice(start, end - start);
  return newsplit;
}

/** Negate every literal (CNF ↔ DNF), keeping each block sorted. */
function invert(ctx: RichContext, bq: number[], start: number, r: number): number {
  if (r === 0 || r === 1) return r ? 0 : 1;
  expand(ctx, bq, start, 0);
  let j = start;
  for (let i = start; i < bq.length; i++) {
    const v = bq[i] ?? 0;
    if (v !== 0) {
      bq[i] = -v;
      continue;
    }
    for (let k = i - 1; j < k; j++, k--) {
      const t = bq[j] ?? 0;
      bq[j] = bq[k] ?? 0;
      bq[k] = t;
    }
    j = i + 1;
  }
  return -1;
}

/** (a1*a2 + b1) * (c1 + d1) = a1*a2*c1 + a1*a2*d1 + b1*c1 + b1*d1, blocks merged sorted. */
function distribute(
  ctx: RichContext,
  bq: number[],
  start: number,
  split: number,
  flags: number,
): number {
  const mid = expand(ctx, bq, start, split);
  const end = bq.length;
  for (let i = start; i < mid; i++) {
    for (let j = mid; j < end; j++) {
      const blockStart = bq.length;
      let k = i;
      while (bq[k] !== 0 && bq[j] !== 0) {
        const x = bq[k] ?? 0;
        const y = bq[j] ?? 0;
        if (x < y) {
          bq.push(x);
          k++;
        } else {
          if (x === y) k++;
          bq.push(y);
          j++;
        }
      }
      while (bq[j] !== 0) bq.push(bq[j++] ?? 0);
      while (bq[k] !== 0) bq.push(bq[k++] ?? 0);
      let a = blockStart;
      let b = bq.length - 1;
      while (a < b) {
        const x = -(bq[a] ?? 0);
        const y = bq[b] ?? 0;
        if (x === y) break;
        if (x > y) a++;
        else b--;
      }
      if (a < b) bq.length = blockStart;
      else bq.push(0);
    }
    while (bq[i] !== 0) i++;
  }
  bq.splice(start, end - start);
  if (bq.length === start) return (flags & TODNF) !== 0 ? 0 : 1;
  return -1;
}
