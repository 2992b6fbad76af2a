/**
 * The CDCL core of the solver, a port of libsolv's solver.c for an empty
 * system: decisions by level, unit propagation over two watched literals,
 * conflict analysis that learns a clause and jumps back, and — when a
 * conflict reaches level 1 — giving up the last weak rule of the proof
 * (`analyzeUnsolvable`). Kept close to the C so the decisions, and hence
 * the result, are libsolv's.
 */
import { IntQueue } from "./int-queue.ts";
import type { Scratch } from "./pool-cache.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { Rules } from "./sat-rules.ts";

export class SatCore {
  readonly decisionmap: Int32Array;
  readonly decisionq = new IntQueue();
  readonly decisionqWhy = new IntQueue();
  readonly decisionqReason = new IntQueue();
  propagateIndex = 0;
  watches: Int32Array;
  readonly branches = new IntQueue();
  readonly learntWhy: number[] = [];
  readonly learntPool: number[] = [0];
  readonly ruleassertions: number[] = [];
  readonly problems: number[] = [];
  readonly ruletojob: number[] = [];
  jobrules = 0;
  jobrulesEnd = 0;
  infarchrules = 0;
  infarchrulesEnd = 0;
  learntrules = 0;
  /** Some rule was given up to keep every request (see `analyzeUnsolvable`). */
  relaxed = false;
  /**
   * libsolv's own behaviour: no rule is weak, so a problem disables the
   * requests (jobs) behind it instead, listed in `droppedJobs`.
   */
  strict = false;
  /** Jobs (indexes into the solved list) disabled by a problem. */
  readonly droppedJobs = new Set<number>();
  /** Set when the decision queue shrank below what the recommends maps saw. */
  recommendsIndex = 0;
  private readonly lits: number[] = [];

  constructor(
    readonly nsolvables: number,
    readonly rules: Rules,
    protected readonly scratch: Scratch,
  ) {
    this.decisionmap = scratch.int32("decisionmap", nsolvables);
    this.watches = scratch.int32("watches", 2 * nsolvables);
  }

  protected isTrue(l: number): boolean {
    const dm = this.decisionmap;
    return l > 0 ? (dm[l] ?? 0) > 0 : (dm[-l] ?? 0) < 0;
  }

  protected isFalse(l: number): boolean {
    const dm = this.decisionmap;
    return l > 0 ? (dm[l] ?? 0) < 0 : (dm[-l] ?? 0) > 0;
  }

  /** libsolv `makewatches`. */
  protected makeWatches(): void {
    const { rules } = this;
    this.watches.fill(0);
    for (let r = rules.count - 1; r >= 1; r--) {
      if (rules.w2[r] === 0) continue;
      this.addWatches(r);
    }
  }

  protected addWatches(r: number): void {
    const { rules, watches } = this;
    const N = this.nsolvables;
    const w1 = N + (rules.w1[r] ?? 0);
    const w2 = N + (rules.w2[r] ?? 0);
    rules.n1[r] = watches[w1] ?? 0;
    watches[w1] = r;
    rules.n2[r] = watches[w2] ?? 0;
    watches[w2] = r;
  }

  /** Decide `lit` at `level` because of `why` (a rule, or -rule for a free decision). */
  protected decide(lit: number, level: number, why: number): void {
    this.decisionmap[lit > 0 ? lit : -lit] = lit > 0 ? level : -level;
    this.decisionq.push(lit);
    this.decisionqWhy.push(why);
  }

  /** libsolv `propagate`: returns the conflicting rule, or 0. */
  protected propagate(level: number): number {
    const { rules, watches, decisionq } = this;
    const dm = this.decisionmap;
    const N = this.nsolvables;
    const data = rules.lists.data;
    const { p: rp, d: rd, w1: rw1, w2: rw2, n1: rn1, n2: rn2 } = rules;
    while (this.propagateIndex < decisionq.n) {
      const pkg = -(decisionq.a[this.propagateIndex++] ?? 0);
      // The link to the current rule lives in watches[prevAt] (prevKind 0) or n1/n2 of rule prevAt.
      let prevKind = 0;
      let prevAt = N + pkg;
      let r = watches[prevAt] ?? 0;
      while (r !== 0) {
        const first = pkg === rw1[r];
        const next = (first ? rn1[r] : rn2[r]) ?? 0;
        const d = rd[r] ?? 0;
        if (d < 0) {
          prevKind = first ? 1 : 2;
          prevAt = r;
          r = next;
          continue;
        }
        const other = (first ? rw2[r] : rw1[r]) ?? 0;
        if (other > 0 ? (dm[other] ?? 0) > 0 : (dm[-other] ?? 0) < 0) {
          prevKind = first ? 1 : 2;
          prevAt = r;
          r = next;
          continue;
        }
        if (d !== 0) {
          let p = rp[r] ?? 0;
          if (p === 0 || p === other || (p > 0 ? (dm[p] ?? 0) < 0 : (dm[-p] ?? 0) > 0)) {
            for (let dp = d; ; dp++) {
              p = data[dp] ?? 0;
              if (p === 0) break;
              if (p !== other && !(p > 0 ? (dm[p] ?? 0) < 0 : (dm[-p] ?? 0) > 0)) break;
            }
          }
          if (p !== 0) {
            if (prevKind === 0) watches[prevAt] = next;
            else if (prevKind === 1) rn1[prevAt] = next;
            else rn2[prevAt] = next;
            if (first) {
              rw1[r] = p;
              rn1[r] = watches[N + p] ?? 0;
            } else {
              rw2[r] = p;
              rn2[r] = watches[N + p] ?? 0;
            }
            watches[N + p] = r;
            r = next;
            continue;
          }
        }
        if (other > 0 ? (dm[other] ?? 0) < 0 : (dm[-other] ?? 0) > 0) return r;
        this.decide(other, level, r);
        prevKind = first ? 1 : 2;
        prevAt = r;
        r = next;
      }
    }
    return 0;
  }

  /** libsolv `revert`: undo decisions above `level`. */
  protected revert(level: number): void {
    const { decisionq, decisionqWhy, branches } = this;
    const dm = this.decisionmap;
    while (decisionq.n > 0) {
      const v = decisionq.last();
      const vv = v > 0 ? v : -v;
      const l = dm[vv] ?? 0;
      if (l <= level && l >= -level) break;
      dm[vv] = 0;
      decisionq.n--;
      decisionqWhy.n--;
      this.propagateIndex = decisionq.n;
    }
    while (branches.n > 0 && branches.last() >= level) branches.n -= branches.at(branches.n - 2);
    if (this.recommendsIndex > decisionq.n) this.recommendsIndex = -1;
    this.decisionqReason.n = level + 1;
  }

  /** libsolv `analyze`: learn a clause from conflict `c`, jump back; returns [level, rule]. */
  protected analyze(level: number, conflict: number): [number, number] {
    const { rules, decisionq, decisionqWhy } = this;
    const dm = this.decisionmap;
    const seen = this.scratch.uint8("analyze.seen", this.nsolvables);
    const q: number[] = [];
    let rlevel = 1;
    let num = 0;
    let l1num = 0;
    const learntStart = this.learntPool.length;
    let idx = decisionq.n;
    let p = 0;
    let c = conflict;
    outer: for (;;) {
      this.learntPool.push(c);
      for (const v of rules.literals(c, this.lits)) {
        if (this.isTrue(v)) continue;
        const vv = v > 0 ? v : -v;
        if (seen[vv]) continue;
        seen[vv] = 1;
        let l = dm[vv] ?? 0;
        if (l < 0) l = -l;
        if (l === 1) l1num++;
        else if (l === level) num++;
        else {
          q.push(v);
          if (l > rlevel) rlevel = l;
        }
      }
      for (;;) {
        if (num === 0 && --l1num === 0) break outer;
        let v = 0;
        let vv = 0;
        do {
          v = decisionq.at(--idx);
          vv = v > 0 ? v : -v;
        } while (!seen[vv]);
        seen[vv] = 0;
        if (num !== 0 && --num === 0) {
          p = -v;
          if (l1num === 0) break outer;
          for (const x of q) seen[x > 0 ? x : -x] = 0;
          l1num++;
          continue;
        }
        const why = decisionqWhy.at(idx);
        if (why <= 0) continue;
        c = why;
        continue outer;
      }
    }
    this.learntPool.push(0);
    this.revert(rlevel);
    const r = q.length < 2 ? rules.add(p, q[0] ?? 0, 0) : rules.add(p, 0, rules.lists.add(q));
    this.learntWhy.push(learntStart);
    this.noteRule(r);
    if (rules.w2[r] !== 0) {
      this.watch2OnHighest(r);
      this.addWatches(r);
    } else this.ruleassertions.push(r);
    return [rlevel, r];
  }

  private watch2OnHighest(r: number): void {
    const { rules } = this;
    const d = rules.offset(r);
    if (d === 0) return;
    const data = rules.lists.data;
    let wl = 0;
    for (let dp = d; data[dp] !== 0; dp++) {
      const v = data[dp] ?? 0;
      let l = this.decisionmap[v < 0 ? -v : v] ?? 0;
      if (l < 0) l = -l;
      if (l > wl) {
        rules.w2[r] = v;
        wl = l;
      }
    }
  }

  /**
   * libsolv `setpropagatelearn`: take `decision` at a new level and
   * propagate, learning from conflicts. Returns the new level; 0 after a
   * level-1 conflict was resolved by disabling rules (start over); -1 when
   * nothing can be given up.
   */
  protected setPropagateLearn(
    level: number,
    decision: number,
    disablerules: boolean,
    ruleid: number,
    reason: number,
  ): number {
    if (decision !== 0) {
      level++;
      this.decide(decision, level, -ruleid);
      this.decisionqReason.push(reason);
    }
    for (;;) {
      const r = this.propagate(level);
      if (r === 0) break;
      if (level === 1) return this.analyzeUnsolvable(r, disablerules);
      const [nl, lr] = this.analyze(level, r);
      level = nl;
      this.decide(this.rules.p[lr] ?? 0, level, lr);
    }
    return level;
  }

  /**
   * libsolv `analyze_unsolvable`: collect the rules behind a level-1
   * conflict; disable the last weak one (or, failing that, the job rules
   * involved when `disablerules`) and reset. Returns 0, or -1 if hopeless.
   */
  protected analyzeUnsolvable(cr: number, disablerules: boolean): number {
    const { rules, decisionq, decisionqWhy } = this;
    const oldProblems = this.problems.length;
    const oldLearnt = this.learntPool.length;
    this.problems.push(0);
    const involved = new Uint8Array(this.nsolvables);
    const rseen = new Uint8Array(Math.max(0, rules.count - this.learntrules));
    const weakq: number[] = [];
    const note = (r: number) => {
      this.learntPool.push(r);
      this.unsolvableRule(r, weakq, rseen);
      for (const v of rules.literals(r, this.lits)) {
        if (this.isTrue(v)) continue;
        involved[v > 0 ? v : -v] = 1;
      }
    };
    note(cr);
    for (let idx = decisionq.n; idx > 0; ) {
      const v = decisionq.at(--idx);
      const vv = v > 0 ? v : -v;
      if (!involved[vv] || vv === SYSTEM) continue;
      note(decisionqWhy.at(idx));
    }
    this.problems.push(0);
    if (weakq.length > 0) {
      this.problems.length = oldProblems;
      this.learntPool.length = oldLearnt;
      const lastweak = Math.max(...weakq);
      this.disableProblem(this.ruleToProblem(lastweak));
      this.reset();
      return 0;
    }
    this.learntPool.push(0);
    this.problems[oldProblems] = oldLearnt;
    if (disablerules && oldProblems + 2 < this.problems.length) {
      for (let i = oldProblems + 1; i < this.problems.length - 1; i++) {
        this.disableProblem(this.problems[i] ?? 0);
      }
      this.reset();
      return 0;
    }
    return -1;
  }

  private unsolvableRule(r: number, weakq: number[], rseen: Uint8Array): void {
    if (this.learntrules !== 0 && r >= this.learntrules) {
      if (rseen[r - this.learntrules]) return;
      rseen[r - this.learntrules] = 1;
      for (let i = this.learntWhy[r - this.learntrules] ?? 0; this.learntPool[i]; i++) {
        const why = this.learntPool[i] ?? 0;
        if (why > 0) this.unsolvableRule(why, weakq, rseen);
      }
      return;
    }
    if (this.isWeak(r)) weakq.push(r);
    if (r < this.rules.pkgrulesEnd) return;
    const why = this.ruleToProblem(r);
    for (let i = this.problems.length - 1; i >= 0; i--) {
      const x = this.problems[i];
      if (x === 0) break;
      if (x === why) return;
    }
    this.problems.push(why);
  }

  private isWeak(r: number): boolean {
    return !this.strict && this.rules.weak[r] === 1;
  }

  private isJobRule(r: number): boolean {
    return r >= this.jobrules && r < this.jobrulesEnd;
  }

  /**
   * Strict mode: of an assertion `ri` contradicting the level-1 decision on
   * `vv`, the job rule to give up (a package rule stays: libsolv only ever
   * disables jobs); `ri` when neither is a job rule.
   */
  private assertionCulprit(ri: number, vv: number): number {
    if (this.isJobRule(ri)) return ri;
    const { decisionq } = this;
    for (let i = 0; i < decisionq.n; i++) {
      const v = decisionq.at(i);
      if (v !== vv && v !== -vv) continue;
      const why = this.decisionqWhy.at(i);
      return this.isJobRule(why) ? why : ri;
    }
    return ri;
  }

  /** A job rule stands for its job (`-(job + 1)`), other rules for themselves. */
  protected ruleToProblem(r: number): number {
    if (r >= this.jobrules && r < this.jobrulesEnd) {
      return -((this.ruletojob[r - this.jobrules] ?? 0) + 1);
    }
    return r;
  }

  /** libsolv `solver_disableproblem`. */
  protected disableProblem(v: number): void {
    const { rules } = this;
    this.relaxed = true;
    if (v > 0) {
      if (v >= this.infarchrules && v < this.infarchrulesEnd) {
        const name = this.infarchName(v);
        while (v > this.infarchrules && this.infarchName(v - 1) === name) v--;
        for (; v < this.infarchrulesEnd && this.infarchName(v) === name; v++) rules.disable(v);
        return;
      }
      rules.disable(v);
      return;
    }
    const job = -(v + 1);
    this.droppedJobs.add(job);
    for (let i = this.jobrules; i < this.jobrulesEnd; i++) {
      if (this.ruletojob[i - this.jobrules] === job) rules.disable(i);
    }
  }

  /** A rule was made (overridden to index it). */
  protected noteRule(_r: number): void {}

  /** Name of the package an infarch rule is about (overridden with pool access). */
  protected infarchName(_r: number): string {
    return "";
  }

  /** libsolv `solver_reset`: forget all decisions (rules were enabled or disabled). */
  protected reset(): void {
    const { decisionq } = this;
    for (let i = decisionq.n - 1; i >= 0; i--) {
      const v = decisionq.at(i);
      this.decisionmap[v > 0 ? v : -v] = 0;
    }
    this.decisionqWhy.n = 0;
    decisionq.n = 0;
    this.decisionqReason.n = 0;
    this.recommendsIndex = -1;
    this.propagateIndex = 0;
    this.branches.n = 0;
    this.enableDisableLearntRules();
  }

  /** Learnt rules follow the rules they were learnt from. */
  protected enableDisableLearntRules(): void {
    const { rules } = this;
    for (let i = this.learntrules; i < rules.count; i++) {
      let disabledWhy = false;
      for (let w = this.learntWhy[i - this.learntrules] ?? 0; this.learntPool[w]; w++) {
        if (rules.isDisabled(this.learntPool[w] ?? 0)) {
          disabledWhy = true;
          break;
        }
      }
      if (disabledWhy && !rules.isDisabled(i)) rules.disable(i);
      else if (!disabledWhy && rules.isDisabled(i)) rules.enable(i);
    }
  }

  /**
   * libsolv `makeruledecisions`: decide the system solvable and every
   * assertion (one-literal rule) at level 1; weak assertions second, each
   * given up if it contradicts what is already decided.
   */
  protected makeRuleDecisions(): void {
    const { rules, decisionq, decisionqWhy } = this;
    const dm = this.decisionmap;
    this.decide(SYSTEM, 1, 0);
    this.decisionqReason.push(0);
    this.decisionqReason.push(0);
    const start = decisionq.n;
    let havedisabled = false;
    for (;;) {
      while (decisionq.n > start) {
        const v = decisionq.a[--decisionq.n] ?? 0;
        decisionqWhy.n--;
        dm[v > 0 ? v : -v] = 0;
      }
      let restart = false;
      for (const ri of this.ruleassertions) {
        if (havedisabled && ri >= this.learntrules) {
          this.enableDisableLearntRules();
          havedisabled = false;
        }
        if ((rules.d[ri] ?? 0) < 0 || rules.p[ri] === 0 || rules.w2[ri] !== 0) continue;
        if (ri < this.learntrules && this.isWeak(ri)) continue;
        const v = rules.p[ri] ?? 0;
        const vv = v > 0 ? v : -v;
        const cur = dm[vv] ?? 0;
        if (cur === 0) {
          this.decide(v, 1, ri);
          continue;
        }
        if ((v > 0 && cur > 0) || (v < 0 && cur < 0)) continue;
        if (ri >= this.learntrules) {
          rules.disable(ri);
          continue;
        }
        this.disableProblem(this.ruleToProblem(this.strict ? this.assertionCulprit(ri, vv) : ri));
        havedisabled = true;
        restart = true;
        break;
      }
      if (restart) continue;
      for (const ri of this.ruleassertions) {
        if ((rules.d[ri] ?? 0) < 0 || rules.w2[ri] !== 0) continue;
        if (ri >= this.learntrules || !this.isWeak(ri)) continue;
        const v = rules.p[ri] ?? 0;
        const vv = v > 0 ? v : -v;
        const cur = dm[vv] ?? 0;
        if (cur === 0) {
          this.decide(v, 1, ri);
          continue;
        }
        if ((v > 0 && cur > 0) || (v < 0 && cur < 0)) continue;
        this.disableProblem(this.ruleToProblem(ri));
        havedisabled = true;
        restart = true;
        break;
      }
      if (!restart) return;
    }
  }
}
