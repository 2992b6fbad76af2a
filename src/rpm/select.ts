/**
 * What goes into one arch of a compose: the requested packages (or all),
 * filtered by arch and signature, closed under dependencies, plus multilib
 * packages. Pure: works on already-loaded `Repodata`.
 */

import { parseDepString } from "./dep-match.ts";
import { Closure } from "./depsolve.ts";
import { compareEvr } from "./evr.ts";
import type { MultilibLists } from "./multilib.ts";
import { PackagePool } from "./package-pool.ts";
import type { Repodata } from "./repodata-read.ts";
import { acceptsMultilib } from "./select-multilib.ts";
import { multilibArchesOf, nativeArches } from "./tree-arches.ts";
import type { PackageRecord } from "./types.ts";

export interface SelectInput {
  /** Packages may come from these. */
  repos: Repodata[];
  /** Used to satisfy deps, never selected. */
  lookaside: Repodata[];
  /**
   * Requested: names, `name.arch`, globs (`python3-*`), or provides such as
   * `/usr/bin/foo` or `libfoo.so.1()(64bit)`; null = every package (newest
   * EVR per name+arch).
   */
  packages: string[] | null;
  /** Tree arch, e.g. "x86_64"; noarch always included; src packages never selected. */
  arch: string;
  /** Only the requested packages, no closure. */
  noDeps: boolean;
  /** Tree arches that get multilib. */
  multilibArches: string[];
  /** "runtime" | "devel" | "all" | "none"; none of the first three = no multilib, whitelist included. */
  multilibMethods: string[];
  /**
   * Name globs for this tree arch (Pungi `multilib_blacklist` /
   * `multilib_whitelist`): a blacklisted secondary-arch package is never
   * added as multilib, a whitelisted one always — both only as the
   * counterpart of a selected native package of the same name-version-release.
   */
  multilibLists?: MultilibLists;
  /**
   * Signature check of the whole package set, before solving (Pungi's check
   * of every RPM of a Koji tag): ordered key preference, "" allows unsigned;
   * packages without an acceptable copy do not exist for the solver and are
   * all listed in `unsigned`. Every candidate's `sigkey` must be known. null =
   * no filter; `repo` composes solve with null and check the result only
   * (`select-signed.ts`).
   */
  sigkeys: string[] | null;
  /** Follow Recommends (default true; see the weak-dep policy in depsolve.ts). */
  weakDeps?: boolean;
}

/** `repo` indexes `SelectInput.repos`. */
export interface SelectedPackage {
  repo: number;
  pkg: PackageRecord;
}

export interface SelectResult {
  packages: SelectedPackage[];
  /** Requested items nothing in `repos` provides. */
  missing: string[];
  /** Deps nothing in repos+lookaside satisfies; `nevra` is `name-[e:]v-r.arch`. */
  unresolved: { nevra: string; dep: string }[];
  /** NEVRAs with no copy signed by an acceptable key (when sigkeys given). */
  unsigned: string[];
}

export function nevraOf(p: PackageRecord): string {
  const e = p.epoch && p.epoch !== "0" ? `${p.epoch}:` : "";
  return `${p.name}-${e}${p.version}-${p.release}.${p.arch}`;
}

/** Select the packages of one compose arch; see `SelectInput`. */
export function selectPackages(input: SelectInput): SelectResult {
  const native = nativeArches(input.arch);
  const methods = input.multilibMethods.filter((m) => m !== "none");
  const multilib =
    input.multilibArches.includes(input.arch) && methods.length > 0
      ? multilibArchesOf(input.arch)
      : [];
  const signature = signaturePolicy(input);
  const pool = new PackagePool(input.repos, input.lookaside, {
    arches: [...native, ...multilib],
    ...(signature ? { accept: signature.accept } : {}),
  });
  const closure = new Closure(pool, { followRecommends: input.weakDeps ?? true });
  const missing: string[] = [];
  if (input.packages === null) {
    for (const k of newestPerNameArch(pool, native)) closure.add(k);
  } else {
    for (const item of input.packages) {
      const requests = resolveRequest(pool, item, native);
      if (requests.length === 0) missing.push(item);
      for (const r of requests) closure.request(r.keys, r.exactArch);
    }
  }
  const isMultilibArch = (a: string) => multilib.includes(a);
  if (!input.noDeps) {
    closure.run();
    for (let added = true; added && multilib.length > 0; ) {
      added = false;
      for (const k of [...closure.order]) {
        const p = pool.pkg(k);
        if (p.arch === "noarch" || isMultilibArch(p.arch)) continue;
        for (const m of pool.byName(p.name)) {
          const c = pool.pkg(m);
          if (closure.has(m) || pool.isLookaside(m) || !isMultilibArch(c.arch)) continue;
          if (compareEvr(c, p) !== 0 || !acceptsMultilib(c, methods, input.multilibLists)) continue;
          closure.add(m);
          added = true;
        }
      }
      closure.run();
    }
  }
  const order = closure.order;
  const seen = new Set<string>();
  const unresolved: SelectResult["unresolved"] = [];
  for (const u of closure.unresolved) {
    const nevra = nevraOf(pool.pkg(u.key));
    const id = `${nevra}\0${u.dep}`;
    if (!seen.has(id)) {
      seen.add(id);
      unresolved.push({ nevra, dep: u.dep });
    }
  }
  return {
    packages: order.map((k) => ({ repo: pool.repoOf(k), pkg: pool.pkg(k) })),
    missing,
    unresolved,
    unsigned: signature ? signature.unsigned(native) : [],
  };
}

/** The candidate sets of one request item (the depsolver picks one package of each). */
function resolveRequest(
  pool: PackagePool,
  item: string,
  native: string[],
): { keys: number[]; exactArch?: boolean }[] {
  const fromRepos = (keys: number[]) => keys.filter((k) => !pool.isLookaside(k));
  const some = (keys: number[]) => (keys.length > 0 ? [{ keys }] : []);
  if (/[*?[]/.test(item)) {
    const re = globToRegExp(item);
    return [...pool.repoNames()]
      .filter((n) => re.test(n))
      .sort()
      .flatMap((n) =>
        some(fromRepos(pool.byName(n)).filter((k) => isNativeOrNoarch(pool, k, native))),
      );
  }
  const named = fromRepos(pool.byName(item));
  if (named.length > 0) return [{ keys: named }];
  const dot = item.lastIndexOf(".");
  if (dot > 0) {
    const arch = item.slice(dot + 1);
    const withArch = fromRepos(pool.byName(item.slice(0, dot))).filter(
      (k) => pool.pkg(k).arch === arch,
    );
    if (withArch.length > 0) return [{ keys: withArch, exactArch: true }];
  }
  const providers = pool.whatProvides(parseDepString(item));
  if (providers.some((k) => pool.isLookaside(k))) return [];
  return some(fromRepos(providers));
}

function isNativeOrNoarch(pool: PackagePool, key: number, native: string[]): boolean {
  const a = pool.pkg(key).arch;
  return a === "noarch" || native.includes(a);
}

function newestPerNameArch(pool: PackagePool, native: string[]): number[] {
  const best = new Map<string, number>();
  for (const k of pool.allRepoKeys()) {
    if (!isNativeOrNoarch(pool, k, native)) continue;
    const p = pool.pkg(k);
    const id = `${p.name}.${p.arch}`;
    const cur = best.get(id);
    if (cur === undefined || compareEvr(pool.pkg(cur), p) < 0) best.set(id, k);
  }
  return [...best.values()];
}

/** A requested package pattern that is no valid glob (`[z-a]`, `[abc`). */
export class InvalidPatternError extends Error {
  override name = "InvalidPatternError";
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  try {
    return new RegExp(`^${body}$`);
  } catch {
    throw new InvalidPatternError(`package pattern "${glob}" is not a valid glob`);
  }
}

/**
 * Signature policy: a package is usable when its `sigkey` is in `sigkeys`
 * (`""` = unsigned allowed); among copies of one NEVRA only those signed
 * with the most preferred available key are. `sigkey === undefined`
 * (unknown — plain repodata carries no signatures) is never acceptable when
 * sigkeys are given: the caller must fill it from the RPM headers.
 */
function signaturePolicy(input: SelectInput) {
  const keys = input.sigkeys;
  if (keys === null) return undefined;
  const rankOf = (p: PackageRecord) =>
    p.sigkey === undefined ? -1 : keys.indexOf(p.sigkey === null ? "" : p.sigkey.toLowerCase());
  const bestRank = new Map<string, number>();
  for (const repo of input.repos) {
    for (const p of repo.packages) {
      const r = rankOf(p);
      const id = nevraOf(p);
      const cur = bestRank.get(id);
      if (r >= 0 && (cur === undefined || cur < 0 || r < cur)) bestRank.set(id, r);
      else if (cur === undefined) bestRank.set(id, -1);
    }
  }
  return {
    accept: (p: PackageRecord) => {
      const r = rankOf(p);
      return r >= 0 && r === bestRank.get(nevraOf(p));
    },
    unsigned: (native: string[]) => {
      const out: string[] = [];
      for (const repo of input.repos) {
        for (const p of repo.packages) {
          const ok = p.arch === "noarch" || native.includes(p.arch);
          if (ok && bestRank.get(nevraOf(p)) === -1 && !out.includes(nevraOf(p)))
            out.push(nevraOf(p));
        }
      }
      return out;
    },
  };
}
