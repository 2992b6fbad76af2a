/**
 * Dependency closure over a `PackagePool`: what must go into a compose so
 * that `dnf install <requested>` succeeds from the compose (+ lookaside).
 *
 * The search is libsolv's (0.7, solver.c/rules.c/policy.c/cplxdeps.c),
 * ported step for step so the answer is libsolv's answer:
 * - package rules (sat-pkgrules.ts) for every package the requests reach
 *   through requires, recommends and suggests, sorted and deduplicated as
 *   libsolv does (sat-rules.ts), rich deps as CNF clauses (rich-normalize.ts),
 *   a job rule per request, lock-step inferior-arch rules;
 * - unit propagation over watched literals, conflict analysis learning a
 *   clause and jumping back — so a conflict makes it take an older version
 *   or another provider (sat-core.ts);
 * - jobs first, then unfulfilled requirements in rule order, first those
 *   the policy narrows to one candidate; the provider policy
 *   (provider-policy.ts); optional Recommends; the minimisation step
 *   (sat-solver.ts).
 * test/rpm/depsolve-libsolv.test.ts checks equality with libsolv on real
 * repositories and on generated corpora of several shapes (conflicts,
 * obsoletes, versions, rich requires and conflicts, weak deps, multilib).
 *
 * Deliberate differences, each with its own test in depsolve.test.ts
 * ("deliberate differences from libsolv"):
 *
 * - Lookaside is the system, not an installed repo: a requirement any
 *   lookaside package satisfies is satisfied (never pulled from the compose
 *   repos), lookaside packages are never selected, and conflicts or
 *   obsoletes against them are ignored. libsolv, given the lookaside as its
 *   installed system, would keep, update or refuse to remove them.
 * - A request is never dropped. Where libsolv reports a problem and leaves
 *   the job out, we give up, one at a time, the last weak rule of the proof
 *   (as libsolv gives up the last weak rule): a "nothing provides" rule (the
 *   package goes in and its missing dependency is listed in `unresolved`),
 *   a conflict, obsoletes, same-name or inferior-arch rule, or a rich
 *   requirement's clause that forbids a package (`unless`, `if … else`) —
 *   both sides go in: a repository may carry packages that cannot be
 *   installed together; each one still has its dependencies. A request
 *   libsolv would drop (found by a strict solve, libsolv's own rules) takes
 *   its policy-best candidate (best arch, newest): which rule is "last" is
 *   an accident of numbering and could otherwise pick `foo.i686` for a
 *   broken `foo` on x86_64.
 * - Weak dependencies: Recommends are followed when `followRecommends`
 *   (libsolv's weak pass: dnf's default `install_weak_deps=True` would
 *   install them too); Supplements are not (they would drag e.g. every
 *   langpack of the source into a small compose; `followSupplements` turns
 *   libsolv's behaviour on); Suggests and Enhances never, as in libsolv.
 *   All four still steer provider choice, as in libsolv.
 * - `add` after `run` extends the solved closure (its packages stay
 *   selected): multilib additions must not move a request's own pick to
 *   another arch, where a one-shot libsolv solve could.
 *
 * Multilib follows Fedora/RHEL builds of libsolv (`implicitobsoleteusescolors`:
 * an i686 and an x86_64 build of one name may be installed together, the
 * i686 one in lock-step with the x86_64 one of the same EVR); the oracle sets
 * the same flag, as Debian's libsolv build has it off.
 */
import { formatDep } from "./dep-match.ts";
import type { PackagePool } from "./package-pool.ts";
import { pruneToBestArch, pruneToBestVersion } from "./provider-policy.ts";
import { Solver } from "./sat-solver.ts";

export interface ClosureOptions {
  /** Follow Recommends (see the policy above). */
  followRecommends: boolean;
  /** With `followRecommends`, also install supplementing packages as libsolv does (not for composes). */
  followSupplements?: boolean;
}

/** A dependency nothing installable satisfies, with the package that has it. */
export interface UnresolvedDep {
  key: number;
  dep: string;
}

interface Job {
  keys: number[];
  exactArch: boolean;
}

export class Closure {
  private readonly jobs: Job[] = [];
  private readonly forced = new Set<number>();
  /** The selection of the last `run`, kept by the next one (`add` extends a solved closure). */
  private previous: number[] = [];
  private solved: { order: number[]; unresolved: UnresolvedDep[]; installed: Set<number> } | null =
    null;

  constructor(
    private readonly pool: PackagePool,
    private readonly opts: ClosureOptions,
  ) {}

  /**
   * Selected package keys in the order they were taken. Before `run`: the
   * requested packages (the best candidate of each request).
   */
  get order(): number[] {
    if (this.solved) return this.solved.order;
    const out: number[] = [];
    for (const { keys } of this.jobs) {
      const k = keys.length > 0 ? this.bestOf(keys) : undefined;
      if (k !== undefined && !out.includes(k)) out.push(k);
    }
    return out;
  }

  /** Requirements of selected packages that nothing selected or in lookaside satisfies. */
  get unresolved(): UnresolvedDep[] {
    return this.solved?.unresolved ?? [];
  }

  has(key: number): boolean {
    return this.forced.has(key) || (this.solved?.installed.has(key) ?? false);
  }

  /** Take `key` (a request or a multilib addition); its deps are solved by `run`. */
  add(key: number): void {
    if (this.forced.has(key)) return;
    this.forced.add(key);
    this.jobs.push({ keys: [key], exactArch: true });
    this.solved = null;
  }

  /**
   * Take one of `keys` (the candidates of one request), chosen as libsolv
   * would. `exactArch`: the request named the arch (`name.arch`), so, as
   * with libsolv, the name's inferior-arch rules do not apply.
   */
  request(keys: number[], exactArch = false): void {
    if (keys.length === 0) return;
    this.jobs.push({ keys: [...keys], exactArch });
    this.solved = null;
  }

  /**
   * Solve every request so far. After an earlier `run`, its selection stays
   * and only what was added since is solved for (multilib additions must
   * not make a request's own choice move to another arch).
   */
  run(): void {
    const kept = this.previous.map((k) => ({ keys: [k], exactArch: false }));
    const jobs = [...kept, ...this.jobs];
    let result = this.solve(jobs, false);
    if (result.relaxed) {
      // Which candidate of a request gets a rule given up is a matter of
      // rule numbering: ask libsolv's own question instead (which requests
      // fail?) and give each failing request its policy-best candidate, so a
      // broken `foo` is foo.x86_64, not foo.i686. (Solves share scratch
      // arrays, so each result is read out before the next solve.)
      const dropped = this.solve(jobs, true).dropped;
      if ([...dropped].some((i) => (jobs[i]?.keys.length ?? 0) > 1)) {
        const pinned = jobs.map((job, i) =>
          dropped.has(i) && job.keys.length > 1
            ? { keys: [this.bestOf(job.keys)], exactArch: true }
            : job,
        );
        result = this.solve(pinned, false);
      }
    }
    const { order, unresolved } = result;
    this.solved = { order, unresolved, installed: new Set(order) };
    this.previous = order;
  }

  /** One solve, read out: the selection, what stays unmet, whether rules were given up. */
  private solve(jobs: Job[], strict: boolean) {
    const { pool } = this;
    const solver = new Solver(pool, {
      recommends: this.opts.followRecommends,
      supplements: this.opts.followSupplements ?? false,
      strict,
    });
    solver.solve(
      jobs.map((job) => ({ ids: job.keys.map((k) => pool.idOf(k)), exactArch: job.exactArch })),
    );
    const ids = solver.installed();
    const order = ids.map((id) => pool.keyOf(id));
    // Only a rule given up (see above) can leave a requirement unmet.
    const unresolved: UnresolvedDep[] = [];
    if (solver.relaxed && !strict) {
      for (const id of ids) {
        for (const d of pool.record(id).requires) {
          if (!solver.holds(d)) unresolved.push({ key: pool.keyOf(id), dep: formatDep(d) });
        }
      }
    }
    return { order, unresolved, relaxed: solver.relaxed, dropped: new Set(solver.droppedJobs) };
  }

  /** The candidate a request takes when nothing else decides: best arch, newest, first name. */
  private bestOf(keys: number[]): number {
    if (keys.length === 1) return keys[0] ?? 0;
    const best = pruneToBestVersion(this.pool, pruneToBestArch(this.pool, keys));
    return best[0] ?? keys[0] ?? 0;
  }
}
