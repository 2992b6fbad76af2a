/**
 * Which provider to take when several packages could satisfy a dependency:
 * libsolv's `policy_filter_unwanted` (policy.c) for a fresh install, step for
 * step, so our closures match what dnf would install. On solvable ids:
 *
 * 1. best arch: the best-ranked real arch among the candidates plus noarch;
 * 2. best version: one package per name (sorted by name, `strcmp`), the
 *    highest EVR (ties keep the lower id); then drop candidates obsoleted by
 *    another candidate of a different name;
 * 3. (choosing) keep the recommended (or supplementing) ones if any; then,
 *    unless `noReorder`: move names that have a newer version elsewhere to
 *    the back, order by "common dependency" (a candidate providing an older
 *    version of a capability another one provides goes back), and move
 *    candidates nothing suggests (or enhances) to the back.
 *
 * Repository priorities are all equal here, so libsolv's priority pruning
 * is a no-op.
 */
import { compareDepEvr } from "./dep-match.ts";
import { compareEvr } from "./evr.ts";
import type { PackagePool } from "./package-pool.ts";
import type { SolverDeps } from "./sat-deps.ts";
import { matchesNevr, namesakes } from "./sat-pkgrules.ts";
import type { Dep } from "./types.ts";

export type PolicyMode = "choose" | "choose-noreorder" | "recommend" | "supplement";

export interface PolicyHost {
  pool: PackagePool;
  deps: SolverDeps;
  archScore(id: number): number;
  /** Recommended by, or supplementing, the current selection. */
  isRecommended(id: number): boolean;
  /** Suggested by, or enhancing, the current selection. */
  isSuggested(id: number): boolean;
}

/** libsolv `policy_filter_unwanted`; filters and reorders `list` in place. */
export function filterUnwanted(host: PolicyHost, list: number[], mode: PolicyMode): void {
  if (mode === "supplement") {
    dislikeOldVersions(host, list);
    sortByCommonDep(host, list);
    toBack(list, (p) => !host.isSuggested(p));
    return;
  }
  if (list.length > 1) bestArch(host, list);
  if (list.length > 1) bestVersion(host, list);
  if (list.length > 1 && mode !== "recommend") {
    keepSome(list, (p) => host.isRecommended(p));
    if (list.length > 1 && mode === "choose") {
      dislikeOldVersions(host, list);
      sortByCommonDep(host, list);
      toBack(list, (p) => !host.isSuggested(p));
    }
  }
}

function bestArch(host: PolicyHost, list: number[]): void {
  let best = 0;
  for (const p of list) {
    const a = host.archScore(p);
    if (a !== 0 && a !== 1 && (best === 0 || a < best)) best = a;
  }
  if (best === 0) return;
  keepSome(list, (p) => {
    const a = host.archScore(p);
    return a !== 0 && (a === 1 || ((a ^ best) & 0xffff0000) === 0);
  });
}

function bestVersion(host: PolicyHost, list: number[]): void {
  const names = nameRanks(host.pool);
  const evr = evrRanks(host.pool, list);
  list.sort((a, b) => {
    const x = (names[a] ?? 0) - (names[b] ?? 0);
    if (x !== 0) return x;
    const aa = host.archScore(a);
    const ab = host.archScore(b);
    if (aa !== ab && aa > 1 && ab > 1) return aa - ab;
    return a - b;
  });
  let j = 0;
  let best = list[0] ?? 0;
  for (let i = 1; i < list.length; i++) {
    const p = list[i] ?? 0;
    if (names[best] !== names[p]) {
      list[j++] = best;
      best = p;
    } else if ((evr[best] ?? 0) < (evr[p] ?? 0)) best = p;
  }
  list[j++] = best;
  list.length = j;
  if (list.length === 2) pruneObsoleted2(host, list);
  else if (list.length > 2) pruneObsoleted(host, list);
}

/** Rank of each solvable's name in `strcmp` order (computed once per pool cache). */
function nameRanks(pool: PackagePool): Int32Array {
  const { cache } = pool;
  if (cache.nameRank.length === 0) {
    const ranks = new Int32Array(pool.nsolvables);
    const names = new Map<string, number[]>();
    for (let id = 2; id < pool.nsolvables; id++) {
      const name = pool.record(id).name;
      const ids = names.get(name);
      if (ids) ids.push(id);
      else names.set(name, [id]);
    }
    [...names.keys()]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .forEach((name, i) => {
        for (const id of names.get(name) ?? []) ranks[id] = i + 1;
      });
    cache.nameRank = ranks;
  }
  return cache.nameRank;
}

/** EVR ranks (equal EVRs, equal ranks) of the namesakes of every id in `list`. */
function evrRanks(pool: PackagePool, list: number[]): Int32Array {
  const ranks = pool.cache.evrRank;
  for (const id of list) {
    if (ranks[id] !== 0) continue;
    const group = [...namesakes(pool, pool.record(id).name)];
    if (!group.includes(id)) group.push(id);
    group.sort((a, b) => compareEvr(pool.record(a), pool.record(b)));
    let rank = 0;
    group.forEach((q, i) => {
      const prev = group[i - 1];
      if (prev === undefined || compareEvr(pool.record(prev), pool.record(q)) !== 0) rank++;
      ranks[q] = rank;
    });
  }
  return ranks;
}

/**
 * Ids `p`'s obsoletes match that are not called like it, obsoletes by
 * obsoletes in whatprovides order (cached per pool).
 */
function obsoletedBy(host: PolicyHost, p: number): Int32Array {
  const { pool, deps } = host;
  const cache = pool.cache.obsoleted;
  let list = cache[p];
  if (!list) {
    const s = pool.record(p);
    const out: number[] = [];
    for (const obs of s.obsoletes) {
      const node = deps.node(obs);
      if (!node) continue;
      for (const q of deps.providers(node)) {
        if (q > 1 && pool.record(q).name !== s.name && matchesNevr(pool, pool.record(q), node)) {
          out.push(q);
        }
      }
    }
    list = Int32Array.from(out);
    cache[p] = list;
  }
  return list;
}

function pruneObsoleted2(host: PolicyHost, list: number[]): void {
  let obmap = 0;
  for (let i = 0; i < 2; i++) {
    const p = list[i] ?? 0;
    const other = list[1 - i] ?? 0;
    if (obsoletedBy(host, p).includes(other)) obmap |= 1 << i;
  }
  if (obmap === 0 || obmap === 3) return;
  if (obmap === 2) list[0] = list[1] ?? 0;
  list.length = 1;
}

/** libsolv `prune_obsoleted`: Tarjan over "obsoletes" among the candidates. */
function pruneObsoleted(host: PolicyHost, list: number[]): void {
  const count = list.length;
  const low = new Int32Array(count);
  const stack = new Int32Array(2 * count + 2);
  let idx = 1;
  let nstack = 0;
  let firstidx = 0;
  const hasObsoletes = (i: number) => host.pool.record(list[i] ?? 0).obsoletes.length > 0;
  const visit = (node: number) => {
    let myidx = idx++;
    low[node] = myidx;
    const stackstart = nstack++;
    stack[stackstart] = node;
    const p = list[node] ?? 0;
    for (const q of obsoletedBy(host, p)) {
      for (let i = 0; i < count; i++) {
        if (i === node || list[i] !== q) continue;
        let l = low[i] ?? 0;
        if (l === 0) {
          if (!hasObsoletes(i)) {
            idx++;
            low[i] = -1;
            continue;
          }
          visit(i);
          l = low[i] ?? 0;
        }
        if (l < 0) continue;
        if (l < firstidx) {
          for (let k = l; ; k++) {
            const at = stack[k] ?? 0;
            if (low[at] === l) low[at] = -1;
            else break;
          }
        } else if (l < (low[node] ?? 0)) low[node] = l;
      }
    }
    if (low[node] === myidx) {
      if (myidx !== firstidx) myidx = -1;
      for (let i = stackstart; i < nstack; i++) low[stack[i] ?? 0] = myidx;
      nstack = stackstart;
    }
  };
  for (let i = 0; i < count; i++) {
    if (low[i]) continue;
    if (hasObsoletes(i)) {
      firstidx = nstack = idx;
      visit(i);
    } else {
      const myidx = idx++;
      low[i] = myidx;
      stack[myidx] = i;
    }
  }
  let j = 0;
  for (let i = 0; i < count; i++) if ((low[i] ?? 0) >= 0) list[j++] = list[i] ?? 0;
  list.length = j;
}

/** Candidates with a newer version of the same name and arch go to the back. */
function dislikeOldVersions(host: PolicyHost, list: number[]): void {
  const { pool } = host;
  const newer = pool.cache.newerExists;
  const evr = evrRanks(pool, list);
  toBack(list, (p) => {
    if (newer[p] === 0) {
      const s = pool.record(p);
      const has = namesakes(pool, s.name).some(
        (q) => q !== p && pool.record(q).arch === s.arch && (evr[q] ?? 0) > (evr[p] ?? 0),
      );
      newer[p] = has ? 2 : 1;
    }
    return newer[p] === 2;
  });
}

interface CommonDep {
  cand: number;
  name: string;
  evr: Dep;
  evrText: string;
  lt: boolean;
}

/** libsolv `sort_by_common_dep`: stable sort by how often a candidate lags behind. */
function sortByCommonDep(host: PolicyHost, list: number[]): void {
  const { pool } = host;
  const ents: CommonDep[] = [];
  list.forEach((p, i) => {
    const s = pool.record(p);
    const provides = s.provides.some((d) => d.name === s.name && d.flags === "EQ")
      ? s.provides
      : [
          ...s.provides,
          { name: s.name, flags: "EQ" as const, epoch: s.epoch, ver: s.version, rel: s.release },
        ];
    for (const d of provides) {
      if (d.flags !== "EQ" && d.flags !== "LE" && d.flags !== "LT") continue;
      const e = d.epoch && d.epoch !== "0" ? `${d.epoch}:` : "";
      const evrText = `${e}${d.ver ?? ""}${d.rel ? `-${d.rel}` : ""}`;
      if (d.flags === "EQ" && evrText.length >= 4 && /^[0-9a-f]*$/.test(evrText)) continue;
      ents.push({ cand: i, name: d.name, evr: d, evrText, lt: d.flags === "LT" });
    }
  });
  if (ents.length < 2) return;
  const cmp = (a: CommonDep, b: CommonDep): number => {
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.evrText === b.evrText && a.lt === b.lt) return 0;
    const r = compareDepEvr(b.evr, a.evr);
    if (r === 0 && (a.lt || b.lt)) {
      if (!b.lt) return 1;
      if (!a.lt) return -1;
    }
    return r;
  };
  ents.sort(cmp);
  const badness = new Int32Array(list.length);
  let bad = 0;
  let haveBad = false;
  let last: CommonDep | undefined;
  for (const e of ents) {
    if (last && last.name === e.name) {
      if (e.cand !== last.cand && cmp(last, e) === -1) {
        bad++;
        haveBad = true;
      }
    } else bad = 0;
    badness[e.cand] = (badness[e.cand] ?? 0) + bad;
    last = e;
  }
  if (!haveBad) return;
  for (let i = 1; i < list.length; i++) {
    for (let j = i; j > 0 && (badness[j - 1] ?? 0) > (badness[j] ?? 0); j--) {
      const b = badness[j - 1] ?? 0;
      badness[j - 1] = badness[j] ?? 0;
      badness[j] = b;
      const p = list[j - 1] ?? 0;
      list[j - 1] = list[j] ?? 0;
      list[j] = p;
    }
  }
}

/** Keep the entries passing `test`, unless none does. */
function keepSome(list: number[], test: (p: number) => boolean): void {
  let j = 0;
  for (const p of list) if (test(p)) list[j++] = p;
  if (j > 0) list.length = j;
}

/** Move entries passing `test` to the back, keeping relative order. */
function toBack(list: number[], test: (p: number) => boolean): void {
  const front = list.filter((p) => !test(p));
  if (front.length === list.length || front.length === 0) return;
  const back = list.filter(test);
  list.length = 0;
  list.push(...front, ...back);
}

/** Keep the best-ranked real arch (and noarch) among package keys; for request resolution. */
export function pruneToBestArch(pool: PackagePool, list: number[]): number[] {
  let best = -1;
  for (const k of list) {
    const p = pool.pkg(k);
    if (p.arch === "noarch") continue;
    const r = pool.archRank(p.arch);
    if (best < 0 || r < best) best = r;
  }
  if (best < 0) return list;
  return list.filter((k) => {
    const a = pool.pkg(k).arch;
    return a === "noarch" || pool.archRank(a) === best;
  });
}

/** Sort package keys by name, keep the highest EVR per name (first wins a tie). */
export function pruneToBestVersion(pool: PackagePool, list: number[]): number[] {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...list].sort((a, b) => byName(pool.pkg(a).name, pool.pkg(b).name));
  const out: number[] = [];
  for (const k of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && pool.pkg(last).name === pool.pkg(k).name) {
      if (compareEvr(pool.pkg(last), pool.pkg(k)) < 0) out[out.length - 1] = k;
    } else out.push(k);
  }
  return out;
}
