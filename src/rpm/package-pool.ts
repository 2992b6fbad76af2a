/**
 * The set of packages one depsolve may see: the compose's repositories and
 * lookaside repositories, restricted to the tree's arches (and, optionally,
 * to acceptable signatures). Packages are addressed by a numeric key
 * combining repository slot and index so sets of them stay cheap; the solver
 * numbers them densely instead (solvable ids, in key order, from 2; see
 * provider-lists.ts), like libsolv numbers the solvables of its repos.
 */
import { rangesOverlap } from "./dep-match.ts";
import type { PoolCache } from "./pool-cache.ts";
import { poolCacheFor } from "./pool-cache.ts";
import { SYSTEM } from "./provider-lists.ts";
import type { RepoIndex } from "./repo-index.ts";
import { getRepoIndex } from "./repo-index.ts";
import type { Repodata } from "./repodata-read.ts";
import type { Dep, PackageRecord } from "./types.ts";

const SLOT = 4_194_304;

/** What a solvable id stands for (`kindOf`). */
export const NOT_INSTALLABLE = 1;
export const IN_REPO = 2;
export const IN_LOOKASIDE = 3;

export interface PoolOptions {
  /** Installable arches best first (tree arch, then multilib arches); noarch is implied. */
  arches: string[];
  /** Extra filter (e.g. signature policy); rejected packages do not exist for the solver. */
  accept?: (pkg: PackageRecord, repo: number) => boolean;
  /**
   * Names what `accept` accepts (e.g. the sigkeys), so pools with equal keys
   * share solver caches; without it a pool with `accept` gets its own.
   */
  acceptKey?: string;
}

interface Slot {
  index: RepoIndex;
  isLookaside: boolean;
  /** Index into the caller's `repos` (or `lookaside`) array. */
  repo: number;
  /** Solvable id of the slot's first package. */
  base: number;
}

export class PackagePool {
  /** Solvable ids are below this. */
  readonly nsolvables: number;
  private readonly slots: Slot[];
  private readonly rank = new Map<string, number>();
  /** Solver data shared with other pools over the same repos and options. */
  readonly cache: PoolCache;

  constructor(
    repos: Repodata[],
    lookaside: Repodata[],
    private readonly opts: PoolOptions,
  ) {
    let base = 2;
    const slot = (r: Repodata, isLookaside: boolean, repo: number): Slot => {
      const index = getRepoIndex(r);
      const s = { index, isLookaside, repo, base };
      base += index.packages.length;
      return s;
    };
    this.slots = [
      ...repos.map((r, i) => slot(r, false, i)),
      ...lookaside.map((r, i) => slot(r, true, i)),
    ];
    this.nsolvables = base;
    opts.arches.forEach((a, i) => {
      if (!this.rank.has(a)) this.rank.set(a, i);
    });
    this.rank.set("noarch", opts.arches.length);
    const key =
      opts.accept && opts.acceptKey === undefined
        ? null
        : [
            this.slots.map((s) => `${s.isLookaside ? "l" : "r"}${s.index.uid}`).join(","),
            opts.arches.join(","),
            opts.acceptKey ?? "",
          ].join("|");
    this.cache = poolCacheFor(this.slots[0]?.index, key, base);
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
      for (const i of s.index.names.get(name) ?? []) {
        if (this.kindOf(s.base + i) !== NOT_INSTALLABLE) out.push(si * SLOT + i);
      }
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
      for (let i = 0; i < s.index.packages.length; i++) {
        if (this.kindOf(s.base + i) === IN_REPO) out.push(si * SLOT + i);
      }
    });
    return out;
  }

  /** Installable packages whose provides (or files, for paths) satisfy `dep`, by key. */
  whatProvides(dep: Dep): number[] {
    return this.rawProviders(dep).map((id) => this.keyOf(id));
  }

  /** Packages named `dep.name` whose own EVR is in the range (rpm obsoletes match NEVR, not provides). */
  whatObsoletes(dep: Dep): number[] {
    return this.byName(dep.name).filter((k) => this.matchesNevr(this.pkg(k), dep));
  }

  /** True when the package itself (name and EVR, not its provides) matches `dep`. */
  matchesNevr(p: PackageRecord, dep: Dep): boolean {
    if (p.name !== dep.name) return false;
    return rangesOverlap(
      { name: p.name, flags: "EQ", epoch: p.epoch, ver: p.version, rel: p.release },
      dep,
    );
  }

  idOf(key: number): number {
    return this.slot(key).base + (key % SLOT);
  }

  keyOf(id: number): number {
    for (let si = this.slots.length - 1; si >= 0; si--) {
      const s = this.slots[si];
      if (s && id >= s.base) return si * SLOT + (id - s.base);
    }
    throw new Error(`no package for solvable ${id}`);
  }

  /** The record of solvable `id` (never `SYSTEM`). */
  record(id: number): PackageRecord {
    let records = this.cache.records;
    if (records.length === 0) {
      records = [];
      for (const s of this.slots) for (const p of s.index.packages) records.push(p);
      this.cache.records = records;
    }
    const p = records[id - 2];
    if (!p) throw new Error(`no package for solvable ${id}`);
    return p;
  }

  /** `NOT_INSTALLABLE`, `IN_REPO` or `IN_LOOKASIDE` (worked out on first use). */
  kindOf(id: number): number {
    const kinds = this.cache.kinds;
    let kind = kinds[id] ?? NOT_INSTALLABLE;
    if (kind === 0) {
      const key = this.keyOf(id);
      kind = !this.isOk(this.pkg(key), key)
        ? NOT_INSTALLABLE
        : this.isLookaside(key)
          ? IN_LOOKASIDE
          : IN_REPO;
      kinds[id] = kind;
    }
    return kind;
  }

  /**
   * Providers of `dep` as ascending solvable ids of installable compose
   * packages, led by `SYSTEM` when a lookaside package provides it too (or it
   * is an `rpmlib()` capability): libsolv's `pool_whatprovides` with the
   * lookaside as the system. Cached per pool; do not modify.
   */
  idsProviding(dep: Dep): readonly number[] {
    const key = depKey(dep);
    const cache = this.cache.providerIds;
    let list = cache.get(key);
    if (!list) {
      list = this.computeProviders(dep);
      cache.set(key, list);
    }
    return list;
  }

  private computeProviders(dep: Dep): number[] {
    const out: number[] = [];
    let system = false;
    for (const id of this.rawProviders(dep)) {
      if (this.kindOf(id) === IN_REPO) out.push(id);
      else system = true;
    }
    // libsolv's system provides every versioned rpmlib() capability nothing else does.
    if (!system && out.length === 0 && dep.flags && dep.name.startsWith("rpmlib(")) system = true;
    if (system) out.unshift(SYSTEM);
    return out;
  }

  /** Ascending ids of installable packages (repos and lookaside) providing `dep`. */
  private rawProviders(dep: Dep): number[] {
    const ids: number[] = [];
    const isPath = dep.name.charCodeAt(0) === 47;
    for (const s of this.slots) {
      for (const e of s.index.provides.get(dep.name) ?? []) {
        if (rangesOverlap(e.dep, dep)) ids.push(s.base + e.pkg);
      }
      if (isPath) for (const i of s.index.fileOwners(dep.name)) ids.push(s.base + i);
    }
    ids.sort((a, b) => a - b);
    const out: number[] = [];
    let last = 0;
    for (const id of ids) {
      if (id !== last && this.kindOf(id) !== NOT_INSTALLABLE) out.push(id);
      last = id;
    }
    return out;
  }

  private isOk(p: PackageRecord, key: number): boolean {
    return (
      p.arch !== "src" &&
      p.arch !== "nosrc" &&
      this.archRank(p.arch) >= 0 &&
      (this.opts.accept ? this.opts.accept(p, this.repoOf(key)) : true)
    );
  }

  private slot(key: number): Slot {
    const s = this.slots[Math.floor(key / SLOT)];
    if (!s) throw new Error(`no repository for key ${key}`);
    return s;
  }
}

/** Cache key of a dependency: name and range. */
export function depKey(d: Dep): string {
  if (!d.flags) return d.name;
  return `${d.name}\0${d.flags}\0${d.epoch ?? ""}\0${d.ver ?? ""}\0${d.rel ?? ""}`;
}
