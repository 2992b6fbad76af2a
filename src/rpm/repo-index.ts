/**
 * The in-memory index the depsolver works from, built once per `Repodata`
 * object and kept alongside it (a WeakMap), so a cached repository is
 * indexed once per process however many composes use it.
 */
import type { PoolCache } from "./pool-cache.ts";
import type { Repodata } from "./repodata-read.ts";
import type { Dep, PackageRecord } from "./types.ts";

/** One provide of one package: `pkg` indexes `Repodata.packages`. */
export interface ProvideEntry {
  pkg: number;
  dep: Dep;
}

export interface RepoIndex {
  /** Distinguishes repositories in cache keys (process-unique). */
  uid: number;
  packages: PackageRecord[];
  /** Provide name → providers; includes the implicit `name = e:v-r` self-provide. */
  provides: Map<string, ProvideEntry[]>;
  /** Package name → package indexes. */
  names: Map<string, number[]>;
  /** Package indexes owning file `path` (all loaded files; the index is built on first use). */
  fileOwners(path: string): readonly number[];
  /** Solver caches of the pools this repository leads (see pool-cache.ts), kept with it. */
  poolCaches: Map<string, PoolCache>;
}

const indexes = new WeakMap<Repodata, RepoIndex>();
let nextUid = 1;

export function getRepoIndex(repo: Repodata): RepoIndex {
  let idx = indexes.get(repo);
  if (!idx) {
    idx = buildIndex(repo.packages);
    indexes.set(repo, idx);
  }
  return idx;
}

function push<K>(map: Map<K, number[]>, key: K, value: number) {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== value) list.push(value);
  } else map.set(key, [value]);
}

function buildIndex(packages: PackageRecord[]): RepoIndex {
  const provides = new Map<string, ProvideEntry[]>();
  const names = new Map<string, number[]>();
  for (let i = 0; i < packages.length; i++) {
    const p = packages[i];
    if (!p) continue;
    push(names, p.name, i);
    let hasSelf = false;
    for (const dep of p.provides) {
      if (dep.name === p.name && dep.flags === "EQ") hasSelf = true;
      const list = provides.get(dep.name);
      const entry = { pkg: i, dep };
      if (list) list.push(entry);
      else provides.set(dep.name, [entry]);
    }
    if (!hasSelf) {
      const dep: Dep = {
        name: p.name,
        flags: "EQ",
        epoch: p.epoch,
        ver: p.version,
        rel: p.release,
      };
      const list = provides.get(p.name);
      if (list) list.push({ pkg: i, dep });
      else provides.set(p.name, [{ pkg: i, dep }]);
    }
  }
  // Most paths have one owner: a number; an array only for shared paths.
  let files: Map<string, number | number[]> | undefined;
  return {
    uid: nextUid++,
    packages,
    provides,
    names,
    fileOwners(path) {
      if (!files) {
        const map = new Map<string, number | number[]>();
        for (let i = 0; i < packages.length; i++) {
          for (const f of packages[i]?.files ?? []) {
            const cur = map.get(f.path);
            if (cur === undefined) map.set(f.path, i);
            else if (typeof cur === "number") {
              if (cur !== i) map.set(f.path, [cur, i]);
            } else if (cur[cur.length - 1] !== i) cur.push(i);
          }
        }
        files = map;
      }
      const owners = files.get(path);
      return owners === undefined ? [] : typeof owners === "number" ? [owners] : owners;
    },
    poolCaches: new Map(),
  };
}
