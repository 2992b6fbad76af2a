/**
 * The set of packages one depsolve may see: the compose's repositories and
 * lookaside repositories, restricted to the tree's arches (and, optionally,
 * to acceptable signatures). Packages are addressed by a numeric key
 * combining repository slot and index so sets of them stay cheap.
 */
import { rangesOverlap } from "./dep-match.ts";
import type { RepoIndex } from "./repo-index.ts";
import { getRepoIndex } from "./repo-index.ts";
import type { Repodata } from "./repodata-read.ts";
import type { Dep, PackageRecord } from "./types.ts";

const SLOT = 4_194_304;

export interface PoolOptions {
  /** Installable arches best first (tree arch, then multilib arches); noarch is implied. */
  arches: string[];
  /** Extra filter (e.g. signature policy); rejected packages do not exist for the solver. */
  accept?: (pkg: PackageRecord, repo: number) => boolean;
}

interface Slot {
  index: RepoIndex;
  isLookaside: boolean;
  /** Index into the caller's `repos` (or `lookaside`) array. */
  repo: number;
}

export class PackagePool {
  private readonly slots: Slot[];
  private readonly rank = new Map<string, number>();
  private readonly okCache = new Map<number, boolean>();

  constructor(
    repos: Repodata[],
    lookaside: Repodata[],
    private readonly opts: PoolOptions,
  ) {
    this.slots = [
      ...repos.map((r, i) => ({ index: getRepoIndex(r), isLookaside: false, repo: i })),
      ...lookaside.map((r, i) => ({ index: getRepoIndex(r), isLookaside: true, repo: i })),
    ];
    opts.arches.forEach((a, i) => {
      if (!this.rank.has(a)) this.rank.set(a, i);
    });
    this.rank.set("noarch", opts.arches.length);
  }

  pkg(key: number): PackageRecord {
    const p = this.slot(key).index.packages[key % SLOT];
    if (!p) throw new Error(`no package for key ${key}`);
    return p;
  }

  /** Index into `repos` (or `lookaside`, see `isLookaside`) of a package. */
  repoOf(key: number): number {
    return this.slot(key).repo;
  }

  isLookaside(key: number): boolean {
    return this.slot(key).isLookaside;
  }

  /** Arch preference: lower is better; noarch after every real arch; -1 = not installable. */
  archRank(arch: string): number {
    return this.rank.get(arch) ?? -1;
  }

  isNoarch(key: number): boolean {
    return this.pkg(key).arch === "noarch";
  }

  /** Installable packages called `name`, repos and lookaside. */
  byName(name: string): number[] {
    const out: number[] = [];
    this.slots.forEach((s, si) => {
      for (const i of s.index.names.get(name) ?? []) this.pushIfOk(out, si * SLOT + i);
    });
    return out;
  }

  /** Distinct package names of the compose repositories (not lookaside). */
  repoNames(): Set<string> {
    const out = new Set<string>();
    for (const s of this.slots)
      if (!s.isLookaside) for (const n of s.index.names.keys()) out.add(n);
    return out;
  }

  /** Every installable package key of the compose repos (not lookaside). */
  allRepoKeys(): number[] {
    const out: number[] = [];
    this.slots.forEach((s, si) => {
      if (s.isLookaside) return;
      for (let i = 0; i < s.index.packages.length; i++) this.pushIfOk(out, si * SLOT + i);
    });
    return out;
  }

  /** Installable packages whose provides (or files, for paths) satisfy `dep`. */
  whatProvides(dep: Dep): number[] {
    const out: number[] = [];
    const isPath = dep.name.charCodeAt(0) === 47;
    this.slots.forEach((s, si) => {
      for (const e of s.index.provides.get(dep.name) ?? []) {
        if (rangesOverlap(e.dep, dep)) this.pushIfOk(out, si * SLOT + e.pkg);
      }
      if (isPath) {
        for (const i of s.index.files().get(dep.name) ?? []) {
          if (!out.includes(si * SLOT + i)) this.pushIfOk(out, si * SLOT + i);
        }
      }
    });
    return out;
  }

  /** Packages named `dep.name` whose own EVR is in the range (rpm obsoletes match NEVR, not provides). */
  whatObsoletes(dep: Dep): number[] {
    return this.byName(dep.name).filter((k) => {
      const p = this.pkg(k);
      return rangesOverlap(
        { name: p.name, flags: "EQ", epoch: p.epoch, ver: p.version, rel: p.release },
        dep,
      );
    });
  }

  private pushIfOk(out: number[], key: number) {
    let ok = this.okCache.get(key);
    if (ok === undefined) {
      const p = this.pkg(key);
      ok =
        p.arch !== "src" &&
        p.arch !== "nosrc" &&
        this.archRank(p.arch) >= 0 &&
        (this.opts.accept ? this.opts.accept(p, this.repoOf(key)) : true);
      this.okCache.set(key, ok);
    }
    if (ok && out[out.length - 1] !== key) out.push(key);
  }

  private slot(key: number): Slot {
    const s = this.slots[Math.floor(key / SLOT)];
    if (!s) throw new Error(`no repository for key ${key}`);
    return s;
  }
}
