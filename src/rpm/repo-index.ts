/**
 * The in-memory index the depsolver works from, built once per `Repodata`
 * object and kept alongside it (a WeakMap), so a cached repository is
 * indexed once per process however many composes use it.
 */
import { estimateRecordBytes } from "./record-size.ts";
import type { Repodata } from "./repodata-read.ts";
import type { Dep, PackageRecord } from "./types.ts";

/** One provide of one package: `pkg` indexes `Repodata.packages`. */
export interface ProvideEntry {
  pkg: number;
  dep: Dep;
}

export interface RepoIndex {
  packages: PackageRecord[];
  /** Provide name → providers; includes the implicit `name = e:v-r` self-provide. */
  provides: Map<string, ProvideEntry[]>;
  /** Package name → package indexes. */
  names: Map<string, number[]>;
  /** File path → package indexes owning it (all loaded files); built on first use. */
  files(): Map<string, number[]>;
  /** Rough retained size in bytes, for the cache budget. */
  approxBytes: number;
}

const indexes = new WeakMap<Repodata, RepoIndex>();

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
  let bytes = 0;
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
    bytes += estimateRecordBytes(p);
  }
  let files: Map<string, number[]> | undefined;
  return {
    packages,
    provides,
    names,
    files() {
      if (!files) {
        files = new Map();
        for (let i = 0; i < packages.length; i++) {
          for (const f of packages[i]?.files ?? []) push(files, f.path, i);
        }
      }
      return files;
    },
    approxBytes: bytes,
  };
}

/** Moved to `record-size.ts` (one estimate for every cache); re-exported for callers here. */
export { estimateRecordBytes } from "./record-size.ts";
