/**
 * Dependency closure over a `PackagePool`: what must go into a compose so
 * that `dnf install <requested>` succeeds from the compose (+ lookaside).
 *
 * The search mirrors libsolv on an empty system so we pick what dnf would:
 * dependencies with a single possible provider are taken first (unit
 * propagation), then the remaining alternatives in the order they were met,
 * each re-checked (an earlier pick often satisfies it) and decided by
 * `chooseProvider`. A dependency satisfied by any lookaside package is never
 * pulled from the compose repositories.
 *
 * Weak-dependency policy: Recommends are followed, after all hard requires,
 * when some provider can be installed without a conflict (dnf's default
 * `install_weak_deps=True` would install them too, so the compose should
 * carry them); Suggests, Enhances and Supplements are not followed (dnf
 * never installs Suggests/Enhances, and Supplements would drag e.g. every
 * langpack of the source into a small compose).
 *
 * Rich requires: `and` needs all operands, `or` one (chosen among the union
 * of its simple operands by the same policy), `with`/`without` one package
 * matching both / the first but not the second, `if`/`unless` are decided
 * against the final selection (re-evaluated until nothing changes). Rich
 * conflicts are not evaluated.
 */
import { formatDep } from "./dep-match.ts";
import type { PackagePool } from "./package-pool.ts";
import type { SelectionView } from "./provider-policy.ts";
import { chooseProvider } from "./provider-policy.ts";
import type { RichDep } from "./rich-deps.ts";
import { isRich, parseRich } from "./rich-deps.ts";
import type { Dep } from "./types.ts";

export interface ClosureOptions {
  /** Follow Recommends (see the policy above). */
  followRecommends: boolean;
}

/** A dependency nothing installable satisfies, with the package that has it. */
export interface UnresolvedDep {
  key: number;
  dep: string;
}

interface Pending {
  from: number;
  dep: string;
  candidates: number[];
}

export class Closure implements SelectionView {
  /** Selected package keys in the order they were taken. */
  readonly order: number[] = [];
  readonly unresolved: UnresolvedDep[] = [];
  private readonly selected = new Set<number>();
  private readonly blocked = new Set<number>();
  private readonly recommended = new Set<number>();
  private readonly suggested = new Set<number>();
  private readonly queue: number[] = [];
  private pending: Pending[] = [];
  private readonly conditional: { from: number; node: RichDep; dep: string }[] = [];
  private readonly richCache = new Map<string, RichDep | null>();

  constructor(
    private readonly pool: PackagePool,
    private readonly opts: ClosureOptions,
  ) {}

  has(key: number): boolean {
    return this.selected.has(key);
  }

  /** Take `key` (a request or a multilib addition); its deps are solved by `run`. */
  add(key: number): void {
    if (this.selected.has(key)) return;
    this.selected.add(key);
    this.order.push(key);
    this.queue.push(key);
    this.blockAgainst(key);
    this.noteWeak(key);
  }

  isRecommended = (key: number): boolean =>
    this.recommended.has(key) || this.pool.pkg(key).supplements.some((d) => this.depHolds(d));

  isSuggested = (key: number): boolean =>
    this.suggested.has(key) || this.pool.pkg(key).enhances.some((d) => this.depHolds(d));

  private depHolds(d: Dep): boolean {
    const node = isRich(d.name) ? this.parse(d.name) : { kind: "leaf" as const, dep: d };
    return node ? this.holds(node) : false;
  }

  private noteWeak(key: number): void {
    const p = this.pool.pkg(key);
    for (const d of p.recommends) {
      if (!isRich(d.name)) for (const k of this.pool.whatProvides(d)) this.recommended.add(k);
    }
    for (const d of p.suggests) {
      if (!isRich(d.name)) for (const k of this.pool.whatProvides(d)) this.suggested.add(k);
    }
  }

  /** True when `key` may be added without conflicting with the selection. */
  isBlocked = (key: number): boolean => {
    if (this.blocked.has(key)) return true;
    const p = this.pool.pkg(key);
    for (const c of p.conflicts) {
      if (
        !isRich(c.name) &&
        this.pool.whatProvides(c).some((k) => k !== key && this.selected.has(k))
      )
        return true;
    }
    for (const o of p.obsoletes) {
      if (this.pool.whatObsoletes(o).some((k) => k !== key && this.selected.has(k))) return true;
    }
    return false;
  };

  /** Solve until every dependency of the selection is satisfied or reported. */
  run(): void {
    this.drain();
    for (let changed = true; changed; ) {
      const before = this.order.length;
      for (const c of [...this.conditional]) this.requireNode(c.from, c.node, c.dep, false);
      this.drain();
      if (this.opts.followRecommends) {
        for (let i = 0; i < this.order.length; i++) {
          const from = this.order[i] ?? 0;
          for (const d of this.pool.pkg(from).recommends) this.recommend(d);
          this.drain();
        }
      }
      changed = this.order.length !== before;
    }
  }

  private drain(): void {
    for (;;) {
      const key = this.queue.shift();
      if (key !== undefined) {
        for (const d of this.pool.pkg(key).requires) this.require(key, d);
        continue;
      }
      const next = this.pending.shift();
      if (!next) return;
      if (next.candidates.some((k) => this.selected.has(k))) continue;
      const pick = chooseProvider(this.pool, next.candidates, this);
      if (pick !== undefined) this.add(pick);
    }
  }

  private require(from: number, d: Dep): void {
    if (d.name.startsWith("rpmlib(")) return;
    if (isRich(d.name)) {
      const node = this.parse(d.name);
      if (node) this.requireNode(from, node, d.name, true);
      else this.unresolved.push({ key: from, dep: d.name });
      return;
    }
    this.requireCandidates(from, formatDep(d), this.pool.whatProvides(d));
  }

  private recommend(d: Dep): void {
    if (isRich(d.name)) return;
    const cands = this.pool.whatProvides(d);
    if (cands.some((k) => this.selected.has(k) || this.pool.isLookaside(k))) return;
    const open = cands.filter((k) => !this.isBlocked(k));
    const pick = chooseProvider(this.pool, open, this);
    if (pick !== undefined) this.add(pick);
  }

  private requireCandidates(from: number, dep: string, cands: number[]): void {
    if (cands.some((k) => this.selected.has(k) || this.pool.isLookaside(k))) return;
    if (cands.length === 0) this.unresolved.push({ key: from, dep });
    else if (cands.length === 1) this.add(cands[0] ?? 0);
    else this.pending.push({ from, dep, candidates: cands });
  }

  private requireNode(from: number, node: RichDep, dep: string, first: boolean): void {
    if (node.kind === "leaf") {
      this.require(from, node.dep);
      return;
    }
    const [a, b] = node.args;
    if (!a || !b) return;
    switch (node.op) {
      case "and":
        for (const arg of node.args) this.requireNode(from, arg, dep, first);
        return;
      case "or": {
        if (node.args.some((arg) => this.holds(arg))) return;
        const simple = node.args.map((arg) => this.candidatesOf(arg));
        if (simple.every((c) => c !== undefined)) {
          this.requireCandidates(from, dep, [...new Set(simple.flat())]);
          return;
        }
        const viable = node.args.find((_arg, i) => (simple[i]?.length ?? 1) > 0) ?? a;
        this.requireNode(from, viable, dep, first);
        return;
      }
      case "if":
      case "unless": {
        if (first) this.conditional.push({ from, node, dep });
        const cond = this.holds(b);
        const then = node.op === "if" ? cond : !cond;
        if (then) this.requireNode(from, a, dep, first);
        else if (node.otherwise) this.requireNode(from, node.otherwise, dep, first);
        return;
      }
      default:
        this.requireCandidates(from, dep, this.candidatesOf(node) ?? []);
    }
  }

  /** Packages that alone satisfy a simple node (leaf/with/without); undefined otherwise. */
  private candidatesOf(node: RichDep): number[] | undefined {
    if (node.kind === "leaf") {
      return isRich(node.dep.name) ? undefined : this.pool.whatProvides(node.dep);
    }
    const [a, b] = node.args;
    if ((node.op !== "with" && node.op !== "without") || !a || !b) return undefined;
    const left = this.candidatesOf(a);
    const right = new Set(this.candidatesOf(b) ?? []);
    return left?.filter((k) => (node.op === "with") === right.has(k));
  }

  /** Is the node true for the current selection + lookaside? */
  private holds(node: RichDep): boolean {
    const present = (k: number) => this.selected.has(k) || this.pool.isLookaside(k);
    if (node.kind === "leaf") return (this.candidatesOf(node) ?? []).some(present);
    const [a, b] = node.args;
    if (!a || !b) return false;
    switch (node.op) {
      case "and":
        return node.args.every((x) => this.holds(x));
      case "or":
        return node.args.some((x) => this.holds(x));
      case "if":
        return this.holds(b) ? this.holds(a) : node.otherwise ? this.holds(node.otherwise) : true;
      case "unless":
        return this.holds(b) ? (node.otherwise ? this.holds(node.otherwise) : true) : this.holds(a);
      default:
        return (this.candidatesOf(node) ?? []).some(present);
    }
  }

  private parse(text: string): RichDep | null {
    let node = this.richCache.get(text);
    if (node === undefined) {
      try {
        node = parseRich(text);
      } catch {
        node = null;
      }
      this.richCache.set(text, node);
    }
    return node;
  }

  private blockAgainst(key: number): void {
    const p = this.pool.pkg(key);
    for (const k of this.pool.byName(p.name)) {
      if (k !== key && this.pool.pkg(k).arch === p.arch) this.blocked.add(k);
    }
    for (const c of p.conflicts) {
      if (isRich(c.name)) continue;
      for (const k of this.pool.whatProvides(c)) if (k !== key) this.blocked.add(k);
    }
    for (const o of p.obsoletes) {
      for (const k of this.pool.whatObsoletes(o)) if (k !== key) this.blocked.add(k);
    }
  }
}
