/**
 * A growable int32 stack whose truncated elements stay readable (libsolv's
 * `Queue`: `takebranch` reads a decision reason right after reverting it).
 */
export class IntQueue {
  a: Int32Array;
  n = 0;

  constructor(capacity = 256) {
    this.a = new Int32Array(capacity);
  }

  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Int32Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
  }

  at(i: number): number {
    return this.a[i] ?? 0;
  }

  last(): number {
    return this.a[this.n - 1] ?? 0;
  }
}
