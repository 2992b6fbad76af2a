/**
 * libsolv's recommends and suggests maps (policy.c
 * `policy_update_recommendsmap`): every package a selected package
 * recommends (or suggests). They steer provider choice and minimisation.
 * Kept incrementally along the decision queue; a rich weak dependency whose
 * condition is still open waits until the condition package is selected.
 */
import type { IntQueue } from "./int-queue.ts";
import type { PackagePool } from "./package-pool.ts";
import type { Scratch } from "./pool-cache.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { RichDep } from "./rich-deps.ts";
import { EXPAND, isComplex, normalizeComplex } from "./rich-normalize.ts";
import type { SolverDeps } from "./sat-deps.ts";
import type { Dep } from "./types.ts";

interface Pending {
  /** The package whose selection re-opens the question. */
  p: number;
  dep: RichDep;
}

export class WeakMaps {
  readonly recommended: Uint8Array;
  readonly suggested: Uint8Array;
  private pendingRecommends: Pending[] = [];
  private pendingSuggests: Pending[] = [];
  private dm: Int32Array = new Int32Array(0);

  constructor(
    private readonly pool: PackagePool,
    private readonly deps: SolverDeps,
    scratch: Scratch,
  ) {
    this.recommended = scratch.uint8("recommendsmap", pool.nsolvables);
    this.suggested = scratch.uint8("suggestsmap", pool.nsolvables);
  }

  /**
   * Take in the decisions from `index` on (-1: decisions were reverted,
   * start over); returns the new index.
   */
  update(index: number, decisionq: IntQueue, decisionmap: Int32Array): number {
    this.dm = decisionmap;
    if (index < 0) {
      this.recommended.fill(0);
      this.suggested.fill(0);
      this.pendingRecommends = [];
      this.pendingSuggests = [];
      index = 0;
    }
    while (index < decisionq.n) {
      const p = decisionq.at(index++);
      if (p <= SYSTEM) continue;
      this.recheck(p, this.recommended, this.pendingRecommends);
      this.recheck(p, this.suggested, this.pendingSuggests);
      const s = this.pool.record(p);
      this.mark(s.recommends, this.recommended, this.pendingRecommends);
      this.mark(s.suggests, this.suggested, this.pendingSuggests);
    }
    return index;
  }

  private mark(list: Dep[], map: Uint8Array, pending: Pending[]): void {
    for (const dep of list) {
      const node = this.deps.node(dep);
      if (!node) continue;
      if (isComplex(node)) this.checkComplex(node, map, pending);
      else {
        const data = this.deps.lists.data;
        for (let dp = this.deps.whatprovides(node); data[dp] !== 0; dp++) map[data[dp] ?? 0] = 1;
      }
    }
  }

  /** libsolv `check_complex_dep`: mark what a rich weak dep points at, or wait for its condition. */
  private checkComplex(node: RichDep, map: Uint8Array, pending: Pending[]): void {
    const dm = this.dm;
    const q: number[] = [];
    const r = normalizeComplex(this.deps, node, q, EXPAND);
    if (r === 0 || r === 1) return;
    const qcnt = q.length;
    for (let i = 0; i < qcnt; i++) {
      let p = q[i] ?? 0;
      for (; p < 0; p = q[++i] ?? 0) {
        if ((dm[-p] ?? 0) < 0) break;
        if ((dm[-p] ?? 0) === 0) q.push(-p);
      }
      if (p <= 0) {
        while ((q[i] ?? 0) !== 0) i++;
        q.length = qcnt;
        continue;
      }
      if (q.length === qcnt) {
        for (; p !== 0; p = q[++i] ?? 0) map[p] = 1;
      } else {
        while ((q[i] ?? 0) !== 0) i++;
        for (let j = qcnt; j < q.length; j++) {
          const w = q[j] ?? 0;
          if (!pending.some((e) => e.p === w && e.dep === node)) pending.push({ p: w, dep: node });
        }
        q.length = qcnt;
      }
    }
  }

  /** libsolv `recheck_complex_deps`: `p` was selected; re-run what waited for it. */
  private recheck(p: number, map: Uint8Array, pending: Pending[]): void {
    if (!pending.some((e) => e.p === p)) return;
    if ((this.dm[p] ?? 0) <= 0) return;
    const due = pending.filter((e) => e.p === p);
    const rest = pending.filter((e) => e.p !== p);
    pending.length = 0;
    pending.push(...rest);
    for (const e of due) this.checkComplex(e.dep, map, pending);
  }
}
