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
    capacity = 1024,
  ) {
    this.p = new Int32Array(capacity);
    this.d = new Int32Array(capacity);
    this.w1 = new Int32Array(capacity);
    this.w2 = new Int32Array(capacity);
    this.n1 = new Int32Array(capacity);
    this.n2 = new Int32Array(capacity);
    this.weak = new Uint8Array(capacity);
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
   */
  unify(): void {
    const n = this.count - 1;
    if (n <= 1) return;
    let minP = 0;
    let maxP = 0;
    for (let r = 1; r <= n; r++) {
      const p = this.p[r] ?? 0;
      if (p < minP) minP = p;
      if (p > maxP) maxP = p;
    }
    const starts = new Int32Array(maxP - minP + 2);
    for (let r = 1; r <= n; r++) {
      const b = (this.p[r] ?? 0) - minP + 1;
      starts[b] = (starts[b] ?? 0) + 1;
    }
    for (let i = 1; i < starts.length; i++) starts[i] = (starts[i] ?? 0) + (starts[i - 1] ?? 0);
    const order = new Int32Array(n);
    const fill = starts.slice();
    for (let r = 1; r <= n; r++) {
      const b = (this.p[r] ?? 0) - minP;
      const at = fill[b] ?? 0;
      fill[b] = at + 1;
      order[at] = r;
    }
    // Within a bucket: by the second literal (a binary rule before a longer
    // one with the same), then the comparator for what is still tied.
    const data = this.lists.data;
    const key = new Int32Array(this.count);
    for (let r = 1; r <= n; r++) {
      const d = this.d[r] ?? 0;
      key[r] = d === 0 ? (this.w2[r] ?? 0) * 2 : (data[d] ?? 0) * 2 + 1;
    }
    const before = (a: number, b: number) => {
      const x = (key[a] ?? 0) - (key[b] ?? 0);
      return x !== 0 ? x < 0 : this.compare(a, b) < 0;
    };
    for (let i = 0; i + 1 < starts.length; i++) {
      const from = starts[i] ?? 0;
      const to = starts[i + 1] ?? 0;
      for (let k = from + 1; k < to; k++) {
        const r = order[k] ?? 0;
        let at = k;
        while (at > from && before(r, order[at - 1] ?? 0)) {
          order[at] = order[at - 1] ?? 0;
          at--;
        }
        order[at] = r;
      }
    }
    const p = this.p.slice(0, this.count);
    const d = this.d.slice(0, this.count);
    const w2 = this.w2.slice(0, this.count);
    const weak = this.weak.slice(0, this.count);
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
    const data = this.lists.data;
    const x = (p[a] ?? 0) - (p[b] ?? 0);
    if (x !== 0) return x;
    const da = d[a] ?? 0;
    const db = d[b] ?? 0;
    if (da === 0 && db === 0) return (w2[a] ?? 0) - (w2[b] ?? 0);
    if (da === 0) return (w2[a] ?? 0) - (data[db] ?? 0) || -1;
    if (db === 0) return (data[da] ?? 0) - (w2[b] ?? 0) || 1;
    if (da === db) return 0;
    let ad = da;
    let bd = db;
    while (data[bd] !== 0) {
      const y = (data[ad++] ?? 0) - (data[bd++] ?? 0);
      if (y !== 0) return y;
    }
    return data[ad] ?? 0;
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
    const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(a);
      return next;
    };
    this.p = grow(this.p, (n) => new Int32Array(n));
    this.d = grow(this.d, (n) => new Int32Array(n));
    this.w1 = grow(this.w1, (n) => new Int32Array(n));
    this.w2 = grow(this.w2, (n) => new Int32Array(n));
    this.n1 = grow(this.n1, (n) => new Int32Array(n));
    this.n2 = grow(this.n2, (n) => new Int32Array(n));
    this.weak = grow(this.weak, (n) => new Uint8Array(n));
  }
}
