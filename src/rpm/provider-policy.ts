/**
 * Which provider to take when several packages could satisfy a dependency.
 * Mirrors libsolv's `policy_filter_unwanted` for a fresh install, so our
 * closures match what dnf would install:
 *
 * 0. prefer candidates the selection recommends (or that supplement it),
 *    else ones it suggests (or that enhance it) — libsolv's
 *    `prune_to_recommended`, applied even when weak deps are not followed;
 * 1. best arch: keep the best-ranked real arch among the candidates (x86_64
 *    over i686) plus noarch;
 * 2. best version per name: one package per name, the highest EVR (ties
 *    keep the earlier repository);
 * 3. drop candidates obsoleted by another candidate of a different name;
 * 4. the first remaining by name (`strcmp` order), as libsolv sorts them.
 *
 * Candidates that conflict with the selection (either direction), are
 * obsoleted by it, or are another version of a selected name+arch are
 * removed first; if that removes all, the unfiltered list is used (a
 * repository may carry conflicting packages; the compose still needs one).
 */
import { compareEvr } from "./evr.ts";
import type { PackagePool } from "./package-pool.ts";

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What the current selection says about a candidate. */
export interface SelectionView {
  isBlocked(key: number): boolean;
  isRecommended(key: number): boolean;
  isSuggested(key: number): boolean;
}

export function chooseProvider(
  pool: PackagePool,
  candidates: number[],
  view: SelectionView,
): number | undefined {
  const open = candidates.filter((k) => !view.isBlocked(k));
  let list = open.length > 0 ? open : candidates;
  if (list.length <= 1) return list[0];
  list = preferSome(list, view.isRecommended);
  list = preferSome(list, view.isSuggested);
  list = pruneToBestArch(pool, list);
  list = pruneToBestVersion(pool, list);
  if (list.length > 1) list = pruneObsoleted(pool, list);
  return list[0];
}

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

/** Sort by name, keep the highest EVR per name (first wins a tie). */
export function pruneToBestVersion(pool: PackagePool, list: number[]): number[] {
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

function pruneObsoleted(pool: PackagePool, list: number[]): number[] {
  const obsoleted = new Set<number>();
  for (const k of list) {
    const p = pool.pkg(k);
    for (const obs of p.obsoletes) {
      for (const o of pool.whatObsoletes(obs)) {
        if (o !== k && pool.pkg(o).name !== p.name && list.includes(o)) obsoleted.add(o);
      }
    }
  }
  if (obsoleted.size === 0 || obsoleted.size === list.length) return list;
  return list.filter((k) => !obsoleted.has(k));
}

function preferSome(list: number[], test: (key: number) => boolean): number[] {
  const kept = list.filter(test);
  return kept.length > 0 ? kept : list;
}
