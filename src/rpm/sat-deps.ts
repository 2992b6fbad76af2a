/**
 * Dependencies as the solver sees them: each becomes a provider list
 * (offset into `ProviderLists`), rich ones a binary tree first (libsolv
 * nests `a and b and c` as `a and (b and c)`). One instance per solve, over
 * the pool's shared cache: lists made while building rules are kept for
 * later solves; once the search starts (`beginSearch`) new lists (job,
 * learnt, looked up by the policy) are the solve's own and dropped by `end`.
 */
import type { PackagePool } from "./package-pool.ts";
import { depKey } from "./package-pool.ts";
import type { PoolCache } from "./pool-cache.ts";
import type { ProviderLists } from "./provider-lists.ts";
import type { RichDep } from "./rich-deps.ts";
import { isRich, parseRich } from "./rich-deps.ts";
import type { RichContext } from "./rich-normalize.ts";
import type { Dep } from "./types.ts";

export class SolverDeps implements RichContext {
  readonly lists: ProviderLists;
  readonly marker: number;
  private readonly cache: PoolCache;
  private searching = false;
  private mark = 0;
  private readonly ownDeps = new Map<string, number>();
  private readonly ownNodes = new Map<RichDep, number>();

  constructor(readonly pool: PackagePool) {
    this.marker = pool.nsolvables;
    this.cache = pool.cache;
    this.lists = pool.cache.lists;
  }

  /** From now on new lists belong to this solve only. */
  beginSearch(): void {
    this.searching = true;
    this.mark = this.lists.length;
  }

  /** Drop this solve's own lists. */
  end(): void {
    if (this.searching) this.lists.length = this.mark;
    this.searching = false;
    this.ownDeps.clear();
    this.ownNodes.clear();
  }

  /** Provider list offset of a plain (not rich) dependency. */
  ofDep(dep: Dep): number {
    const key = depKey(dep);
    let off = this.cache.depOffsets.get(key) ?? this.ownDeps.get(key);
    if (off === undefined) {
      off = this.lists.add(this.pool.idsProviding(dep));
      (this.searching ? this.ownDeps : this.cache.depOffsets).set(key, off);
    }
    return off;
  }

  /** The dependency as a tree: a leaf for a plain one, null for an unparsable rich one. */
  node(dep: Dep): RichDep | null {
    if (!isRich(dep.name)) {
      let leaf = this.cache.leaves.get(dep);
      if (!leaf) {
        leaf = { kind: "leaf", dep };
        this.cache.leaves.set(dep, leaf);
      }
      return leaf;
    }
    const parsed = this.cache.parsed;
    let node = parsed.get(dep.name);
    if (node === undefined) {
      try {
        node = binary(parseRich(dep.name));
      } catch {
        node = null;
      }
      parsed.set(dep.name, node);
    }
    return node;
  }

  /**
   * libsolv `pool_whatprovides` of a tree: `or` merges, `with`/`without`
   * filter the left operand's providers; `and`/`if`/`unless` answer the
   * best case (their left operand, merged with an `else` branch).
   */
  whatprovides(node: RichDep): number {
    let off = this.cache.nodeOffsets.get(node) ?? this.ownNodes.get(node);
    if (off === undefined) {
      off = node.kind === "leaf" ? this.ofDep(node.dep) : this.compute(node);
      (this.searching ? this.ownNodes : this.cache.nodeOffsets).set(node, off);
    }
    return off;
  }

  /** Providers of a tree as an array (off the hot path). */
  providers(node: RichDep): number[] {
    return this.lists.toArray(this.whatprovides(node));
  }

  /** libsolv `solver_dep_possible`: could `node` hold with packages from `m` only. */
  possible(node: RichDep, m: Uint8Array): boolean {
    if (node.kind === "op") {
      const [a, b] = node.args;
      if (!a || !b) return false;
      if (node.op === "if" || node.op === "unless") return true;
      if (node.op === "and") return this.possible(a, m) && this.possible(b, m);
      if (node.op === "or") return this.possible(a, m) || this.possible(b, m);
    }
    const data = this.lists.data;
    for (let dp = this.whatprovides(node); data[dp] !== 0; dp++) if (m[data[dp] ?? 0]) return true;
    return false;
  }

  /** libsolv `solver_dep_fulfilled`: does `node` hold for the installed set (`decided[id] > 0`). */
  fulfilled(node: RichDep, decided: Int32Array): boolean {
    if (node.kind === "op") {
      const [a, b] = node.args;
      if (!a || !b) return false;
      const c = node.otherwise;
      switch (node.op) {
        case "if":
          if (c)
            return this.fulfilled(b, decided)
              ? this.fulfilled(a, decided)
              : this.fulfilled(c, decided);
          return this.fulfilled(a, decided) || !this.fulfilled(b, decided);
        case "unless":
          if (c)
            return this.fulfilled(b, decided)
              ? this.fulfilled(c, decided)
              : this.fulfilled(a, decided);
          return this.fulfilled(a, decided) && !this.fulfilled(b, decided);
        case "and":
          return this.fulfilled(a, decided) && this.fulfilled(b, decided);
        case "or":
          return this.fulfilled(a, decided) || this.fulfilled(b, decided);
      }
    }
    const data = this.lists.data;
    for (let dp = this.whatprovides(node); data[dp] !== 0; dp++) {
      if ((decided[data[dp] ?? 0] ?? 0) > 0) return true;
    }
    return false;
  }

  private compute(node: RichDep & { kind: "op" }): number {
    const [a, b] = node.args;
    if (!a || !b) return this.lists.add([]);
    const left = this.lists.toArray(this.whatprovides(a));
    switch (node.op) {
      case "with":
      case "without": {
        const right = new Set(this.lists.toArray(this.whatprovides(b)));
        const keep = node.op === "with";
        return this.lists.add(left.filter((p) => right.has(p) === keep));
      }
      case "or":
      case "and":
        return this.lists.add(
          left.length === 0 ? this.providers(b) : merge(left, this.providers(b)),
        );
      default: {
        const other = node.otherwise ? this.providers(node.otherwise) : [];
        return this.lists.add(left.length === 0 ? other : merge(left, other));
      }
    }
  }
}

/** Sorted union of two ascending id lists. */
function merge(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x < y) {
      out.push(x);
      i++;
    } else {
      if (x === y) i++;
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++] ?? 0);
  while (j < b.length) out.push(b[j++] ?? 0);
  return out;
}

/** Right-nest chains (`a and b and c` → `a and (b and c)`), as libsolv parses them. */
function binary(node: RichDep): RichDep {
  if (node.kind === "leaf") return node;
  const args = node.args.map(binary);
  let tree = args[args.length - 1];
  if (!tree) return node;
  for (let i = args.length - 2; i >= 1; i--) {
    const arg = args[i];
    if (arg) tree = { kind: "op", op: node.op, args: [arg, tree] };
  }
  const first = args[0];
  const out: RichDep = { kind: "op", op: node.op, args: first ? [first, tree] : [tree] };
  if (node.otherwise) out.otherwise = binary(node.otherwise);
  return out;
}
