/**
 * Sorted provider lists of one solve, stored back to back in one Int32Array
 * and addressed by offset, each terminated by 0 — libsolv's
 * `whatprovidesdata`. Rules point into it (`Rule.d`), so a requirement with
 * many providers costs one integer in its rule.
 *
 * Solvable ids: 0 is unused, 1 (`SYSTEM`) is the always-installed system
 * (it stands for lookaside packages and rpm's built-in `rpmlib()`
 * capabilities), compose packages start at 2.
 */

export const SYSTEM = 1;
/** Offset of the empty list. */
export const EMPTY = 1;
/** Offset of the list holding just `SYSTEM`. */
export const SYSTEM_ONLY = 2;

export class ProviderLists {
  data = new Int32Array(1 << 14);
  length = 4;

  constructor() {
    this.data[2] = SYSTEM;
  }

  /** Append `ids` (any order the caller wants kept) and return its offset. */
  add(ids: ArrayLike<number>, from = 0, to = ids.length): number {
    const n = to - from;
    if (n === 0) return EMPTY;
    if (n === 1 && ids[from] === SYSTEM) return SYSTEM_ONLY;
    this.reserve(n + 1);
    const off = this.length;
    for (let i = from; i < to; i++) this.data[this.length++] = ids[i] ?? 0;
    this.data[this.length++] = 0;
    return off;
  }

  /** The list at `off` as a plain array (for code off the hot path). */
  toArray(off: number): number[] {
    const out: number[] = [];
    for (let p = this.data[off] ?? 0; p !== 0; p = this.data[++off] ?? 0) out.push(p);
    return out;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Int32Array(size);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
