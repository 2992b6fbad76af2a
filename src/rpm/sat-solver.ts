/**
 * libsolv's solver loop for a fresh install (solver.c `solver_solve` and
 * `solver_run_sat`, no installed system): build the rules, decide the jobs,
 * then every unfulfilled requirement — first those the policy narrows to one
 * candidate, then the rest in rule order — then, optionally, Recommends;
 * finally "minimise": when a package passed over at a choice got installed
 * later anyway, go back and take it at that choice instead.
 */

import { IntQueue } from "./int-queue.ts";
import type { PackagePool } from "./package-pool.ts";
import { IN_REPO } from "./package-pool.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { PolicyHost } from "./provider-policy.ts";
import { filterUnwanted } from "./provider-policy.ts";
import type { RichDep } from "./rich-deps.ts";
import { EXPAND, isComplex, normalizeComplex } from "./rich-normalize.ts";
import { SatCore } from "./sat-core.ts";
import { SolverDeps } from "./sat-deps.ts";
import type { RuleContext } from "./sat-pkgrules.ts";
import {
  AddedMap,
  addInfarchRules,
  addRulesForWeak,
  addSameNameRules,
  namesakes,
} from "./sat-pkgrules.ts";
import { Rules } from "./sat-rules.ts";
import { WeakMaps } from "./sat-weakmaps.ts";
import type { Dep } from "./types.ts";

const REASON_RESOLVE_JOB = 1;
const REASON_RESOLVE = 2;
const REASON_WEAKDEP = 3;

/** Install one of `ids`; `exactArch` (a package, or `name.arch`) lifts the inferior-arch rules of its name, as libsolv's SETARCH jobs do. */
export interface SolverJob {
  ids: readonly number[];
  exactArch: boolean;
}

export interface SolverOptions {
  /** Install Recommends (libsolv's weak pass). */
  recommends: boolean;
  /** With `recommends`, install supplementing packages too, as libsolv does. */
  supplements?: boolean;
  /** No weak rules: a problem drops requests, as in libsolv (`SatCore.strict`). */
  strict?: boolean;
}

export class Solver extends SatCore implements PolicyHost, RuleContext {
  readonly deps: SolverDeps;
  private readonly weakMaps: WeakMaps;
  private readonly dq: number[] = [];
  /** Rules `resolveDependencies` can act on: not two literals led by a negative one. */
  private readonly eligible = new IntQueue(4096);

  constructor(
    readonly pool: PackagePool,
    private readonly opts: SolverOptions,
  ) {
    const deps = new SolverDeps(pool);
    const { scratch } = pool.cache;
    super(pool.nsolvables, new Rules(deps.lists, scratch, pool.cache.rulesHint), scratch);
    this.deps = deps;
    this.weakMaps = new WeakMaps(pool, deps, scratch);
    this.strict = opts.strict ?? false;
  }

  /** Solve jobs (each: install one of these solvable ids). Returns false if hopeless. */
  solve(jobs: readonly SolverJob[]): boolean {
    try {
      return this.solveJobs(jobs);
    } finally {
      this.deps.end();
    }
  }

  private solveJobs(jobs: readonly SolverJob[]): boolean {
    const { rules, pool } = this;
    const added = new AddedMap(this.nsolvables, this.scratch);
    const m = added.m;
    m[SYSTEM] = 1;
    for (const job of jobs) for (const p of job.ids) added.addRulesFor(this, p);
    addRulesForWeak(this, this.weakCandidates(), added);
    const sameNameFrom = rules.count;
    addSameNameRules(this, added, pool.nsolvables);
    this.deps.beginSearch();
    rules.unify(sameNameFrom);
    rules.pkgrulesEnd = rules.count;
    this.jobrules = rules.count;
    jobs.forEach((job, i) => {
      const [first, ...rest] = job.ids.length > 0 ? job.ids : [-SYSTEM];
      const r = rules.add(first ?? -SYSTEM, 0, rules.lists.add(rest));
      this.ruletojob[r - this.jobrules] = i;
    });
    this.jobrulesEnd = rules.count;
    this.infarchrules = rules.count;
    addInfarchRules(this, m, pool.nsolvables);
    this.infarchrulesEnd = rules.count;
    for (const job of jobs) {
      if (!job.exactArch) continue;
      const names = new Set(job.ids.map((id) => pool.record(id).name));
      for (let r = this.infarchrules; r < this.infarchrulesEnd; r++) {
        if (names.has(this.infarchName(r))) rules.disable(r);
      }
    }
    this.learntrules = rules.count;
    pool.cache.rulesHint = Math.max(1024, rules.count + (rules.count >> 2));
    this.makeWatches();
    for (let r = 1; r < rules.count; r++) this.noteRule(r);
    for (let r = 1; r < rules.count; r++) {
      const d = rules.d[r] ?? 0;
      if (rules.p[r] !== 0 && rules.w2[r] === 0 && (d === 0 || d === -1)) {
        this.ruleassertions.push(r);
      }
    }
    return this.runSat(true, this.opts.recommends);
  }

  /** Installed solvable ids in decision order. */
  installed(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.decisionq.n; i++) {
      const p = this.decisionq.at(i);
      if (p > SYSTEM) out.push(p);
    }
    return out;
  }

  isInstalled(id: number): boolean {
    return (this.decisionmap[id] ?? 0) > 0;
  }

  archScore(id: number): number {
    const scores = this.pool.cache.scores;
    const known = scores[id] ?? 0;
    if (known !== 0) return known - 1;
    const arch = this.pool.record(id).arch;
    const rank = this.pool.archRank(arch);
    const score = arch === "noarch" ? 1 : rank < 0 ? 0 : ((rank + 1) << 16) | 1;
    scores[id] = score + 1;
    return score;
  }

  isRecommended(id: number): boolean {
    this.updateWeakMaps();
    return this.weakMaps.recommended[id] === 1 || this.isSupplementing(id);
  }

  isSuggested(id: number): boolean {
    this.updateWeakMaps();
    return this.weakMaps.suggested[id] === 1 || this.holdsAny(this.pool.record(id).enhances);
  }

  private updateWeakMaps(): void {
    if (this.recommendsIndex < this.decisionq.n) {
      this.recommendsIndex = this.weakMaps.update(
        this.recommendsIndex,
        this.decisionq,
        this.decisionmap,
      );
    }
  }

  /** Does `dep` hold for the current decisions. */
  holds(dep: Dep): boolean {
    const node = this.deps.node(dep);
    return node !== null && this.deps.fulfilled(node, this.decisionmap);
  }

  protected override noteRule(r: number): void {
    if ((this.rules.p[r] ?? 0) >= 0 || this.rules.offset(r) !== 0) this.eligible.push(r);
  }

  protected override infarchName(r: number): string {
    const p = -(this.rules.p[r] ?? 0);
    return p > SYSTEM ? this.pool.record(p).name : "";
  }

  private isSupplementing(id: number): boolean {
    return this.holdsAny(this.pool.record(id).supplements);
  }

  private holdsAny(list: Dep[]): boolean {
    for (const d of list) if (this.holds(d)) return true;
    return false;
  }

  private weakCandidates(): Int32Array {
    const { cache } = this.pool;
    if (!cache.weakCandidates) {
      const out: number[] = [];
      for (let id = 2; id < this.nsolvables; id++) {
        const s = this.pool.record(id);
        if (
          (s.supplements.length > 0 || s.enhances.length > 0) &&
          this.pool.kindOf(id) === IN_REPO
        ) {
          out.push(id);
        }
      }
      cache.weakCandidates = Int32Array.from(out);
    }
    return cache.weakCandidates;
  }

  /** libsolv `solver_run_sat`. */
  private runSat(disablerules: boolean, doweak: boolean): boolean {
    let level = 0;
    let systemlevel = 1;
    for (;;) {
      if (level <= 0) {
        if (level < 0) break;
        this.makeRuleDecisions();
        level = 1;
        const r = this.propagate(level);
        if (r !== 0) {
          level = this.analyzeUnsolvable(r, disablerules);
          continue;
        }
        systemlevel = level + 1;
      }
      if (level < systemlevel) {
        const olevel = level;
        level = this.resolveJobRules(level, disablerules);
        if (level < olevel) continue;
        systemlevel = level + 1;
      }
      if (level < systemlevel) systemlevel = level;
      const olevel = level;
      level = this.resolveDependencies(level, disablerules);
      if (level < olevel) continue;
      if (doweak) {
        const [next, rerun] = this.resolveWeak(level);
        level = next;
        if (rerun) continue;
      }
      if (this.branches.n > 0) {
        const [lasti, lastiend] = this.minimizationCandidate();
        if (lasti >= 0) {
          level = this.takeBranch(lasti, lastiend, disablerules);
          continue;
        }
      }
      break;
    }
    return level >= 0;
  }

  private resolveJobRules(level: number, disablerules: boolean): number {
    const { rules } = this;
    const dm = this.decisionmap;
    const oldlevel = level;
    const lits: number[] = [];
    for (let i = this.jobrules; i < this.jobrulesEnd; i++) {
      if (rules.isDisabled(i)) continue;
      const dq: number[] = [];
      let done = false;
      for (const l of rules.literals(i, lits)) {
        if (l < 0) {
          if ((dm[-l] ?? 0) <= 0) {
            done = true;
            break;
          }
        } else {
          if ((dm[l] ?? 0) > 0) {
            done = true;
            break;
          }
          if ((dm[l] ?? 0) === 0) dq.push(l);
        }
      }
      if (done || dq.length === 0) continue;
      const olevel = level;
      level = this.selectAndInstall(level, dq, disablerules, i, REASON_RESOLVE_JOB);
      if (level <= olevel) {
        if (level === olevel) {
          i--;
          continue;
        }
        if (level < oldlevel) return level;
        i = this.jobrules - 1;
      }
    }
    return level;
  }

  /**
   * libsolv `resolve_dependencies`: walk the rules round-robin, deciding
   * the first unfulfilled one (first those the policy narrows to one
   * candidate, then any), until a whole round decides nothing. Walks only
   * the rules that can be unfulfilled-and-undecided (`eligible`), in rule
   * order — the others are always skipped — so the decisions are the same.
   */
  private resolveDependencies(level: number, disablerules: boolean): number {
    const { rules, eligible } = this;
    const dm = this.decisionmap;
    const data = () => rules.lists.data;
    const origlevel = level;
    let postponed = -1;
    let postponing = true;
    const dq = this.dq;
    for (let at = 0, n = 0; ; at++, n++) {
      if (n >= eligible.n) {
        if (!postponing || postponed < 0) break;
        at = postponed;
        postponing = false;
        n = 0;
      }
      if (at === eligible.n) at = 0;
      const i = eligible.a[at] ?? 0;
      const d = rules.d[i] ?? 0;
      if (d < 0) continue;
      const p = rules.p[i] ?? 0;
      if (p < 0 && (dm[-p] ?? 0) <= 0) continue;
      dq.length = 0;
      if (d === 0) {
        const w2 = rules.w2[i] ?? 0;
        if (w2 <= 0) continue;
        if ((dm[p] ?? 0) !== 0 || (dm[w2] ?? 0) !== 0) continue;
        dq.push(p, w2);
      } else {
        if (p >= 0) {
          if ((dm[p] ?? 0) > 0) continue;
          if ((dm[p] ?? 0) === 0) dq.push(p);
        }
        const list = data();
        let fulfilled = false;
        for (let dp = d; list[dp] !== 0; dp++) {
          const q = list[dp] ?? 0;
          if (q < 0) {
            if ((dm[-q] ?? 0) <= 0) {
              fulfilled = true;
              break;
            }
          } else {
            if ((dm[q] ?? 0) > 0) {
              fulfilled = true;
              break;
            }
            if ((dm[q] ?? 0) === 0) dq.push(q);
          }
        }
        if (fulfilled) continue;
      }
      if (dq.length > 1 && postponing) {
        filterUnwanted(this, dq, "choose-noreorder");
        if (dq.length > 1) {
          if (postponed < 0) postponed = at;
          continue;
        }
      }
      level = this.selectAndInstall(level, dq, disablerules, i, REASON_RESOLVE);
      if (level < origlevel) break;
      n = 0;
    }
    return level;
  }

  private selectAndInstall(
    level: number,
    dq: number[],
    disablerules: boolean,
    ruleid: number,
    reason: number,
  ): number {
    if (dq.length > 1) filterUnwanted(this, dq, "choose");
    if (dq.length > 1) this.createBranch(level, dq, 0, ruleid);
    return this.setPropagateLearn(level, dq[0] ?? 0, disablerules, ruleid, reason);
  }

  private createBranch(level: number, dq: number[], p: number, data: number): void {
    const { branches } = this;
    branches.push(-(dq[0] ?? 0));
    for (let i = 1; i < dq.length; i++) branches.push(dq[i] ?? 0);
    branches.push(p);
    branches.push(data);
    branches.push(dq.length + 4);
    branches.push(level);
  }

  private takeBranch(pos: number, end: number, disablerules: boolean): number {
    const { branches } = this;
    const level = branches.at(end - 1);
    const p = branches.at(pos);
    branches.a[pos] = -p;
    branches.a[end - 1] = 0;
    this.revert(level);
    branches.a[end - 1] = level;
    const why = -this.decisionqWhy.at(this.decisionqWhy.n);
    const reason = this.decisionqReason.at(level + 1);
    return this.setPropagateLearn(level, p, disablerules, why, reason);
  }

  /** The auto-minimisation step of `solver_run_sat`: [position, group end] or [-1, -1]. */
  private minimizationCandidate(): [number, number] {
    const { branches } = this;
    const dm = this.decisionmap;
    let lasti = -1;
    let lastiend = -1;
    this.updateWeakMaps();
    for (let endi = branches.n; endi > 0; ) {
      const l = branches.at(endi - 1);
      const starti = endi - branches.at(endi - 2);
      let lastsi = -1;
      for (let i = starti; i < endi - 4; i++) {
        const p = branches.at(i);
        if (p <= 0) continue;
        if ((dm[p] ?? 0) > l) {
          lasti = i;
          lastiend = endi;
          lastsi = -1;
          break;
        }
        if (lastsi < 0 && (this.weakMaps.recommended[p] === 1 || this.isSupplementing(p)))
          lastsi = i;
      }
      if (lastsi >= 0) {
        for (let i = starti; i < endi - 4; i++) {
          const p = -branches.at(i);
          if (p <= 0 || dm[p] !== l + 1) continue;
          if (!(this.weakMaps.recommended[p] === 1 || this.isSupplementing(p))) {
            lasti = lastsi;
            lastiend = endi;
            break;
          }
        }
      }
      endi = starti;
    }
    return [lasti, lastiend];
  }

  /** libsolv `resolve_weak` (Supplements only with `opts.supplements`): returns [level, rerun]. */
  private resolveWeak(level: number): [number, boolean] {
    const dm = this.decisionmap;
    const dq: number[] = [];
    const dqs: number[] = [];
    for (let i = 2; i < this.nsolvables; i++) {
      if ((dm[i] ?? 0) < 0) continue;
      const s = this.pool.record(i);
      if ((dm[i] ?? 0) === 0) {
        if (
          this.opts.supplements &&
          s.supplements.length > 0 &&
          this.pool.kindOf(i) === IN_REPO &&
          this.isSupplementing(i)
        ) {
          dqs.push(i);
        }
        continue;
      }
      for (const rec of s.recommends) {
        const node = this.deps.node(rec);
        if (!node) continue;
        if (isComplex(node)) {
          this.complexRecommends(node, dq, null);
          continue;
        }
        const qcount = dq.length;
        for (const p of this.deps.providers(node)) {
          if ((dm[p] ?? 0) > 0) {
            dq.length = qcount;
            break;
          }
          if ((dm[p] ?? 0) === 0 && !dq.includes(p)) dq.push(p);
        }
      }
    }
    // implicitobsoleteusescolors: no supplemented package of a name already installed in another arch
    const supplemented = dqs.filter((p) => {
      const s = this.pool.record(p);
      return !namesakes(this.pool, s.name).some(
        (q) => (dm[q] ?? 0) > 0 && this.pool.record(q).arch !== s.arch,
      );
    });
    for (const p of supplemented) if (!dq.includes(p)) dq.push(p);
    if (dq.length === 0) return [level, false];
    if (dq.length === 1) {
      return [this.setPropagateLearn(level, dq[0] ?? 0, false, 0, REASON_WEAKDEP), true];
    }
    filterUnwanted(this, dq, "recommend");
    const dqmap = new Uint8Array(this.nsolvables);
    for (const p of dq) dqmap[p] = 1;
    const best = supplemented.filter((p) => dqmap[p]);
    if (best.length > 1) filterUnwanted(this, best, "supplement");
    const decisioncount = this.decisionq.n;
    for (const p of best) {
      if ((dm[p] ?? 0) !== 0) continue;
      const olevel = level;
      level = this.setPropagateLearn(level, p, false, 0, REASON_WEAKDEP);
      if (level <= olevel) return [level, true];
    }
    if (this.decisionq.n < decisioncount) return [level, true];
    outer: for (let i = 0; i < decisioncount; i++) {
      const s = this.decisionq.at(i);
      if (s <= SYSTEM) continue;
      for (const rec of this.pool.record(s).recommends) {
        const node = this.deps.node(rec);
        if (!node) continue;
        const cands: number[] = [];
        if (isComplex(node)) this.complexRecommends(node, cands, dqmap);
        else {
          for (const p of this.deps.providers(node)) {
            if ((dm[p] ?? 0) > 0) {
              cands.length = 0;
              break;
            }
            if ((dm[p] ?? 0) === 0 && dqmap[p]) cands.push(p);
          }
        }
        if (cands.length === 0) continue;
        if (cands.length > 1) filterUnwanted(this, cands, "choose");
        if (cands.length > 1) this.createBranch(level, cands, s, 0);
        const olevel = level;
        level = this.setPropagateLearn(level, cands[0] ?? 0, false, 0, REASON_WEAKDEP);
        if (level <= olevel || this.decisionq.n < decisioncount) break outer;
      }
    }
    return [level, true];
  }

  /** libsolv `add_complex_recommends`. */
  private complexRecommends(node: RichDep, dq: number[], dqmap: Uint8Array | null): void {
    const dm = this.decisionmap;
    const oldcnt = dq.length;
    const r = normalizeComplex(this.deps, node, dq, EXPAND);
    if (r === 0 || r === 1) return;
    const cutcnt = dq.length;
    for (let i = oldcnt; i < cutcnt; i++) {
      const blkcnt = dq.length;
      for (; (dq[i] ?? 0) !== 0; i++) {
        const p = dq[i] ?? 0;
        if (p < 0) {
          if ((dm[-p] ?? 0) <= 0) break;
          continue;
        }
        if ((dm[p] ?? 0) > 0) {
          dq.length = blkcnt;
          break;
        }
        if (dqmap ? !dqmap[p] : (dm[p] ?? 0) < 0) continue;
        dq.push(p);
      }
      while ((dq[i] ?? 0) !== 0) i++;
    }
    dq.splice(oldcnt, cutcnt - oldcnt);
    const seen = new Set(dq.slice(0, oldcnt));
    let j = oldcnt;
    for (let i = oldcnt; i < dq.length; i++) {
      const p = dq[i] ?? 0;
      if (seen.has(p)) continue;
      seen.add(p);
      dq[j++] = p;
    }
    dq.length = j;
  }
}
