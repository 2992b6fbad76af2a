/**
 * The rules (clauses) of one solve, stored like libsolv's `Rule` array as
 * parallel integer arrays. A rule's literals are `p`, then either `w2` (when
 * `d` is 0: one or two literals) or the 0-terminated list at offset `d` in
 * the provider lists. A disabled rule has `d = -d - 1`. `w1`/`w2` are the
 * two watched literals, `n1`/`n2` the next rule in their watch lists.
 *
 * `weak` marks rules the solver may give up when nothing else works (see
 * depsolve.ts: which constraints yield when a request cannot be met whole).
 */
import type { Scratch } from "./pool-cache.ts";
import type { ProviderLists } from "./provider-lists.ts";

export class Rules {
  p: Int32Array;
  d: Int32Array;
  w1: Int32Array;
  w2: Int32Array;
  n1: Int32Array;
  n2: Int32Array;
  weak: Uint8Array;
  /** Rule 0 is unused, as in libsolv. */
  count = 1;
  /** 0 while package rules are being added (they are then deduplicated on the fly). */
  pkgrulesEnd = 0;
  private lastpkgrule = 0;

  /** `capacity`: rules expected (e.g. the last solve's count), grown as needed. */
  constructor(
    readonly lists: ProviderLists,
    private readonly scratch: Scratch,
    capacity = 1024,
  ) {
    this.p = scratch.int32("rules.p", capacity, true);
    this.d = scratch.int32("rules.d", capacity, true);
    this.w1 = scratch.int32("rules.w1", capacity, true);
    this.w2 = scratch.int32("rules.w2", capacity, true);
    this.n1 = scratch.int32("rules.n1", capacity, true);
    this.n2 = scratch.int32("rules.n2", capacity, true);
    this.weak = scratch.uint8("rules.weak", capacity, true);
  }

  /**
   * libsolv `solver_addrule`: `(p | p2)` when `d` is 0, else `(p | list at d)`.
   * Returns the rule, an identical previous package rule, or 0 when the rule
   * is always true (`p` and `-p` in it).
   */
  add(p: number, p2: number, d: number, weak = false): number {
    const data = this.lists.data;
    if (d !== 0) {
      if (data[d] === 0) d = 0;
      else if (data[d + 1] === 0) {
        p2 = data[d] ?? 0;
        d = 0;
      }
    }
    if (this.pkgrulesEnd === 0) {
      const r = this.lastpkgrule;
      if (d !== 0) {
        if (this.p[r] === p) {
          if (this.same(this.d[r] ?? 0, d)) return this.keep(r, weak);
        }
        for (let dp = d; data[dp] !== 0; dp++) if (data[dp] === -p) return 0;
      } else {
        if (p2 !== 0 && p > p2) {
          const o = p;
          p = p2;
          p2 = o;
        }
        if (this.p[r] === p && this.d[r] === 0 && this.w2[r] === p2) return this.keep(r, weak);
        if (p === -p2) return 0;
      }
      this.lastpkgrule = this.count;
    }
    this.reserve();
    const r = this.count++;
    this.p[r] = p;
    this.d[r] = d;
    this.w1[r] = p;
    this.w2[r] = d !== 0 ? (data[d] ?? 0) : p2;
    this.n1[r] = 0;
    this.n2[r] = 0;
    this.weak[r] = weak ? 1 : 0;
    return r;
  }

  /** Literals of rule `r` into `out` (cleared first). */
  literals(r: number, out: number[]): number[] {
    out.length = 0;
    out.push(this.p[r] ?? 0);
    const d = this.offset(r);
    if (d === 0) {
      const w2 = this.w2[r] ?? 0;
      if (w2 !== 0) out.push(w2);
    } else {
      const data = this.lists.data;
      for (let dp = d; data[dp] !== 0; dp++) out.push(data[dp] ?? 0);
    }
    return out;
  }

  /** Offset of the literal list, whether or not the rule is disabled. */
  offset(r: number): number {
    const d = this.d[r] ?? 0;
    return d < 0 ? -d - 1 : d;
  }

  isDisabled(r: number): boolean {
    return (this.d[r] ?? 0) < 0;
  }

  disable(r: number): void {
    const d = this.d[r] ?? 0;
    if (d >= 0) this.d[r] = -d - 1;
  }

  enable(r: number): void {
    const d = this.d[r] ?? 0;
    if (d < 0) this.d[r] = -d - 1;
  }

  /**
   * The rule `add` would make during package-rule creation, as [p, d, w2]
   * (one or two literals: d = 0), or null when it is always true.
   */
  normalized(p: number, p2: number, d: number): [number, number, number] | null {
    const data = this.lists.data;
    if (d !== 0) {
      if (data[d] === 0) d = 0;
      else if (data[d + 1] === 0) {
        p2 = data[d] ?? 0;
        d = 0;
      }
    }
    if (d !== 0) {
      for (let dp = d; data[dp] !== 0; dp++) if (data[dp] === -p) return null;
      return [p, d, data[d] ?? 0];
    }
    if (p2 !== 0 && p > p2) return p === -p2 ? null : [p2, 0, p];
    return p === -p2 ? null : [p, 0, p2];
  }

  /** Append a package rule made by `normalized` (duplicates go at `unify`). */
  append(p: number, d: number, w2: number, weak: boolean): void {
    this.reserve();
    const r = this.count++;
    this.p[r] = p;
    this.d[r] = d;
    this.w1[r] = p;
    this.w2[r] = w2;
    this.n1[r] = 0;
    this.n2[r] = 0;
    this.weak[r] = weak ? 1 : 0;
  }

  /** Append the (p, d, w2, weak) quadruples of a rule template. */
  appendAll(quads: Int32Array): void {
    const n = quads.length >> 2;
    while (this.count + n >= this.p.length) this.grow();
    const { p, d, w1, w2, n1, n2, weak } = this;
    let r = this.count;
    for (let i = 0; i < quads.length; i += 4, r++) {
      const lit = quads[i] ?? 0;
      p[r] = lit;
      w1[r] = lit;
      d[r] = quads[i + 1] ?? 0;
      w2[r] = quads[i + 2] ?? 0;
      n1[r] = 0;
      n2[r] = 0;
      weak[r] = quads[i + 3] ?? 0;
    }
    this.count = r;
  }

  /**
   * libsolv `solver_unifyrules`: sort the package rules and drop duplicates,
   * so rule order is the same whatever order packages were visited in. A
   * kept duplicate is weak only if all its copies were. Rules are bucketed
   * by their first literal first (most buckets hold one package's rules).
   *
   * Rules from `firstFrom` on are placed first in their bucket (the
   * same-name rules, emitted last but sorting before a package's own).
   */
  unify(firstFrom = this.count): void {
    const n = this.count - 1;
    if (n <= 1) return;
    let minP = 0;
    let maxP = 0;
    for (let r = 1; r <= n; r++) {
      const p = this.p[r] ?? 0;
      if (p < minP) minP = p;
      if (p > maxP) maxP = p;
    }
    const { scratch } = this;
    const starts = scratch.int32("unify.starts", maxP - minP + 2);
    for (let r = 1; r <= n; r++) {
      const b = (this.p[r] ?? 0) - minP + 1;
      starts[b] = (starts[b] ?? 0) + 1;
    }
    for (let i = 1; i < starts.length; i++) starts[i] = (starts[i] ?? 0) + (starts[i - 1] ?? 0);
    const order = scratch.int32("unify.order", n, true);
    const fill = scratch.int32("unify.fill", starts.length, true);
    fill.set(starts);
    for (let k = 0; k < n; k++) {
      const r = firstFrom + k <= n ? firstFrom + k : firstFrom + k - n;
      const b = (this.p[r] ?? 0) - minP;
      const at = fill[b] ?? 0;
      fill[b] = at + 1;
      order[at] = r;
    }
    // Within a bucket: by the second literal (a binary rule before a longer
    // one with the same), then the comparator for what is still tied.
    const data = this.lists.data;
    const key = scratch.int32("unify.key", this.count, true);
    for (let r = 1; r <= n; r++) {
      const d = this.d[r] ?? 0;
      key[r] = d === 0 ? (this.w2[r] ?? 0) * 2 : (data[d] ?? 0) * 2 + 1;
    }
    const less = (a: number, b: number) => {
      const x = (key[a] ?? 0) - (key[b] ?? 0);
      return x !== 0 ? x < 0 : this.compare(a, b) < 0;
    };
    const tmp = scratch.int32("unify.tmp", n, true);
    for (let i = 0; i + 1 < starts.length; i++) {
      const from = starts[i] ?? 0;
      const to = starts[i + 1] ?? 0;
      if (to - from > 1) mergeRuns(order, tmp, from, to, less);
    }
    const copy = <T extends Int32Array | Uint8Array>(from: T, to: T): T => {
      to.set(from.subarray(0, this.count));
      return to;
    };
    const p = copy(this.p, scratch.int32("unify.p", this.count, true));
    const d = copy(this.d, scratch.int32("unify.d", this.count, true));
    const w2 = copy(this.w2, scratch.int32("unify.w2", this.count, true));
    const weak = copy(this.weak, scratch.uint8("unify.weak", this.count, true));
    let j = 0;
    let prev = 0;
    for (const i of order) {
      if (prev !== 0 && key[i] === key[prev] && this.compareIn(p, d, w2, i, prev) === 0) {
        this.weak[j] = (this.weak[j] ?? 0) & (weak[i] ?? 0);
        continue;
      }
      j++;
      prev = i;
      this.p[j] = p[i] ?? 0;
      this.w1[j] = p[i] ?? 0;
      this.d[j] = d[i] ?? 0;
      this.w2[j] = w2[i] ?? 0;
      this.weak[j] = weak[i] ?? 0;
    }
    this.count = j + 1;
    this.lastpkgrule = 0;
  }

  /** libsolv `unifyrules_sortcmp`. */
  compare(a: number, b: number): number {
    return this.compareIn(this.p, this.d, this.w2, a, b);
  }

  private compareIn(p: Int32Array, d: Int32Array, w2: Int32Array, a: number, b: number): number {
    return compareRules(
      this.lists.data,
      p[a] ?? 0,
      d[a] ?? 0,
      w2[a] ?? 0,
      p[b] ?? 0,
      d[b] ?? 0,
      w2[b] ?? 0,
    );
  }

  private same(a: number, b: number): boolean {
    if (a === b) return true;
    const data = this.lists.data;
    for (; data[b] !== 0; a++, b++) if (data[a] !== data[b]) return false;
    return data[a] === data[b];
  }

  private keep(r: number, weak: boolean): number {
    if (!weak) this.weak[r] = 0;
    return r;
  }

  private reserve(): void {
    if (this.count >= this.p.length) this.grow();
  }

  private grow(): void {
    const size = this.p.length * 2;
    const grow = <T extends Int32Array | Uint8Array>(a: T, next: T): T => {
      next.set(a);
      return next;
    };
    const { scratch } = this;
    this.p = grow(this.p, scratch.int32("rules.p", size, true));
    this.d = grow(this.d, scratch.int32("rules.d", size, true));
    this.w1 = grow(this.w1, scratch.int32("rules.w1", size, true));
    this.w2 = grow(this.w2, scratch.int32("rules.w2", size, true));
    this.n1 = grow(this.n1, scratch.int32("rules.n1", size, true));
    this.n2 = grow(this.n2, scratch.int32("rules.n2", size, true));
    this.weak = grow(this.weak, scratch.uint8("rules.weak", size, true));
  }
}

/** libsolv `unifyrules_sortcmp` on two rules given as (p, d, w2) over provider `data`. */
export function compareRules(
  data: Int32Array,
  pa: number,
  da: number,
  w2a: number,
  pb: number,
  db: number,
  w2b: number,
): number {
  const x = pa - pb;
  if (x !== 0) return x;
  if (da === 0 && db === 0) return w2a - w2b;
  if (da === 0) return w2a - (data[db] ?? 0) || -1;
  if (db === 0) return (data[da] ?? 0) - w2b || 1;
  if (da === db) return 0;
  let ad = da;
  let bd = db;
  while (data[bd] !== 0) {
    const y = (data[ad++] ?? 0) - (data[bd++] ?? 0);
    if (y !== 0) return y;
  }
  return data[ad] ?? 0;
}

/**
 * Sort `a[from, to)` by `less`: a natural merge sort, linear when the
 * range is one sorted run and cheap when it is a few (a rule bucket is
 * usually a package's sorted rules, then its same-name rules).
 */
function mergeRuns(
  a: Int32Array,
  tmp: Int32Array,
  from: number,
  to: number,
  less: (x: number, y: number) => boolean,
): void {
  for (;;) {
    let merged = false;
    let start = from;
    while (start < to) {
      let mid = start + 1;
      while (mid < to && !less(a[mid] ?? 0, a[mid - 1] ?? 0)) mid++;
      if (mid === to) break;
      let end = mid + 1;
      while (end < to && !less(a[end] ?? 0, a[end - 1] ?? 0)) end++;
      let i = start;
      let j = mid;
      let k = start;
      while (i < mid && j < end) {
        const x = a[i] ?? 0;
        const y = a[j] ?? 0;
        if (less(y, x)) {
          tmp[k++] = y;
          j++;
        } else {
          tmp[k++] = x;
          i++;
        }
      }
      while (i < mid) tmp[k++] = a[i++] ?? 0;
      while (j < end) tmp[k++] = a[j++] ?? 0;
      a.set(tmp.subarray(start, end), start);
      merged = true;
      start = end;
    }
    if (!merged) return;
  }
}
