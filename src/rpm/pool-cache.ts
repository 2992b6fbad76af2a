/**
 * What the solver can reuse between solves over the same pool — same
 * repositories, lookaside, arches and signature filter: provider lists
 * (libsolv keeps these in its pool too), parsed rich deps, each package's
 * rules ("templates": a package's rules depend on the pool only, not on the
 * request), same-name lists and arch scores. A warm solve then only replays
 * rules and runs the search.
 *
 * Kept on the RepoIndex of the pool's first repository, so it lives as long
 * as that (cached) repository; at most `POOL_CACHES_PER_REPO` per repo.
 */
import { ProviderLists } from "./provider-lists.ts";
import type { RepoIndex } from "./repo-index.ts";
import type { RichDep } from "./rich-deps.ts";
import type { Dep, PackageRecord } from "./types.ts";

const POOL_CACHES_PER_REPO = 8;

/** One package's rules as they depend on the pool alone. */
export interface RuleTemplate {
  /** Package rules, normalised as `Rules.add` would: (p, d, w2, weak) quadruples. */
  rules: Int32Array;
  /** Packages the rules reach (providers, lock-step twins, weak deps). */
  visit: Int32Array;
}

/**
 * Typed arrays a solve needs, reused by the next solve over the same pool
 * (solves are synchronous, so one at a time), to spare the allocations.
 */
export class Scratch {
  private readonly ints = new Map<string, Int32Array>();
  private readonly bytes = new Map<string, Uint8Array>();

  /** `size` elements, zeroed unless `dirty` is set. */
  int32(tag: string, size: number, dirty = false): Int32Array {
    let a = this.ints.get(tag);
    if (!a || a.length < size) {
      a = new Int32Array(size + (size >> 2));
      this.ints.set(tag, a);
      return a.subarray(0, size);
    }
    const v = a.subarray(0, size);
    if (!dirty) v.fill(0);
    return v;
  }

  uint8(tag: string, size: number, dirty = false): Uint8Array {
    let a = this.bytes.get(tag);
    if (!a || a.length < size) {
      a = new Uint8Array(size + (size >> 2));
      this.bytes.set(tag, a);
      return a.subarray(0, size);
    }
    const v = a.subarray(0, size);
    if (!dirty) v.fill(0);
    return v;
  }
}

export class PoolCache {
  readonly scratch = new Scratch();
  /** Provider lists shared by every solve; a solve appends its own after `mark` and drops them. */
  readonly lists = new ProviderLists();
  /** Plain dependency (depKey) → offset in `lists`. */
  readonly depOffsets = new Map<string, number>();
  /** Rich (sub)tree → offset in `lists` of its providers taken as a plain dep. */
  readonly nodeOffsets = new Map<RichDep, number>();
  /** Plain dependency → ascending provider ids (`PackagePool.idsProviding`). */
  readonly providerIds = new Map<string, readonly number[]>();
  /** Rich dependency text → tree (null: unparsable). */
  readonly parsed = new Map<string, RichDep | null>();
  /** Leaf trees of plain deps, so looking one up allocates nothing. */
  readonly leaves = new WeakMap<Dep, RichDep>();
  /** Per solvable id (a dense array: sparse writes would make it a slow dictionary). */
  readonly templates: (RuleTemplate | undefined)[];
  /** Per solvable id: what its obsoletes hit among other names (provider-policy.ts). */
  readonly obsoleted: (Int32Array | undefined)[];
  /** Package records by solvable id - 2. */
  records: PackageRecord[] = [];
  /** Per solvable id: 0 unknown, 1 its name has builds of one arch class only, 2 of several. */
  readonly mixedArches: Uint8Array;
  /** Installable compose packages per name, ascending ids. */
  readonly namesakes = new Map<string, Int32Array>();
  /** Rules the last solve made, to size the next one's arrays. */
  rulesHint = 1024;
  /** Per solvable id: its `namesakes` (dense array, filled on use). */
  readonly groups: (Int32Array | undefined)[];
  /** Per solvable id: colour of its arch, for same-name rules (empty until first needed). */
  colors = new Uint8Array(0);
  /** Packages with Supplements or Enhances (candidates for libsolv's weak rule pass). */
  weakCandidates: Int32Array | undefined;
  /** Per solvable id: 0 unknown, else NOT_INSTALLABLE / IN_REPO / IN_LOOKASIDE. */
  readonly kinds: Uint8Array;
  /** Per solvable id: arch score + 1 (0 unknown). */
  readonly scores: Int32Array;
  /** Per solvable id: rank of its name in `strcmp` order (empty until first needed). */
  nameRank = new Int32Array(0);
  /** Per solvable id: rank of its EVR among its namesakes, from 1 (0 unknown). */
  readonly evrRank: Int32Array;
  /** Per solvable id: 0 unknown, 1 newest of its name and arch, 2 a newer one exists. */
  readonly newerExists: Uint8Array;

  constructor(nsolvables: number) {
    this.templates = new Array<RuleTemplate | undefined>(nsolvables).fill(undefined);
    this.obsoleted = new Array<Int32Array | undefined>(nsolvables).fill(undefined);
    this.groups = new Array<Int32Array | undefined>(nsolvables).fill(undefined);
    this.kinds = new Uint8Array(nsolvables);
    this.mixedArches = new Uint8Array(nsolvables);
    this.evrRank = new Int32Array(nsolvables);
    this.newerExists = new Uint8Array(nsolvables);
    this.scores = new Int32Array(nsolvables);
  }
}

/** The cache for `key` on `lead` (created on first use); a private one when `key` is null. */
export function poolCacheFor(lead: RepoIndex | undefined, key: string | null, size: number) {
  if (!lead || key === null) return new PoolCache(size);
  const caches = lead.poolCaches;
  let cache = caches.get(key);
  if (cache) caches.delete(key);
  else {
    cache = new PoolCache(size);
    for (const old of caches.keys()) {
      if (caches.size < POOL_CACHES_PER_REPO) break;
      caches.delete(old);
    }
  }
  caches.set(key, cache);
  return cache;
}
