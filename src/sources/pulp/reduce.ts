/**
 * ODCS's handling of the repositories Pulp found (reference/pulp.md §1),
 * pure: one entry per content set (its several repos reduced) and one per
 * repo id, then the `.repo` file text.
 */

/** One Pulp repository as ODCS sees it (`_make_repo_info`). */
export interface PulpRepoInfo {
  id: string;
  /** Note `content_set` (Pulp 3: label); "" when absent. */
  contentSet: string;
  /** Server root + relative URL, https downgraded to http. */
  url: string;
  arch: string;
  /** Sorted key ids. */
  sigkeys: string[];
  /** The raw `product_versions` note: a JSON list encoded as a string. */
  productVersions: string;
}

/** One section of the `.repo` file: a content set or a repo id. */
export type PulpEntry =
  | { key: string; kind: "url"; url: string; arches: string[]; sigkeys: string[] }
  /** Repos of one content set that `mergerepo_c` merges per arch, served from the compose. */
  | {
      key: string;
      kind: "merge";
      /** Arch → the URLs of that arch's repos (deduplicated, sorted). */
      byArch: Record<string, string[]>;
      arches: string[];
      sigkeys: string[];
    };

const VERSION_RE = /^\d+(\.\d+)*$/;

function singleVersion(repo: PulpRepoInfo): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(repo.productVersions);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 1) return undefined;
  const [v] = parsed;
  return typeof v === "string" && VERSION_RE.test(v) ? v : undefined;
}

/** Numeric comparison of dotted versions of the same length. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < pa.length; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Step 1: when every repo has the same arch and exactly one plain version
 * (`["7.9"]`), all with as many dots, only the newest is kept (the first
 * of equals). ODCS compares the parts as strings ("7.10" < "7.9"); this
 * compares them as numbers.
 */
export function pickNewestProductVersion(repos: readonly PulpRepoInfo[]): PulpRepoInfo[] {
  const versions: string[] = [];
  for (const repo of repos) {
    if (repo.arch !== repos[0]?.arch) return [...repos];
    const v = singleVersion(repo);
    if (v === undefined) return [...repos];
    if (versions.length > 0 && versions[0]?.split(".").length !== v.split(".").length)
      return [...repos];
    versions.push(v);
  }
  let best = 0;
  for (let i = 1; i < repos.length; i++)
    if (compareVersions(versions[i] ?? "", versions[best] ?? "") > 0) best = i;
  const kept = repos[best];
  return kept ? [kept] : [];
}

/**
 * Step 2: the arch in each URL replaced by `$basearch` (every occurrence,
 * as Python's `str.replace`); one entry if all URLs and key lists are then
 * equal.
 */
export function tryArchMerge(
  repos: readonly PulpRepoInfo[],
): { url: string; arches: string[]; sigkeys: string[] } | undefined {
  if (repos.length < 2) return undefined;
  const first = repos[0];
  if (!first) return undefined;
  const url = first.url.split(first.arch).join("$basearch");
  const arches = new Set<string>();
  for (const r of repos) {
    if (r.url.split(r.arch).join("$basearch") !== url) return undefined;
    if (r.sigkeys.join(",") !== first.sigkeys.join(",")) return undefined;
    arches.add(r.arch);
  }
  return { url, arches: [...arches].sort(), sigkeys: first.sigkeys };
}

/** Steps 1–4 for the repos of one content set. */
export function reduceContentSet(contentSet: string, repos: readonly PulpRepoInfo[]): PulpEntry {
  const kept = pickNewestProductVersion(repos);
  const merged = tryArchMerge(kept);
  if (merged) return { key: contentSet, kind: "url", ...merged };
  const last = kept.at(-1);
  if (kept.length < 2 && last)
    return {
      key: contentSet,
      kind: "url",
      url: last.url,
      arches: [last.arch],
      sigkeys: last.sigkeys,
    };
  const byArch: Record<string, string[]> = {};
  for (const r of kept) byArch[r.arch] = [...new Set([...(byArch[r.arch] ?? []), r.url])].sort();
  return {
    key: contentSet,
    kind: "merge",
    byArch,
    arches: Object.keys(byArch).sort(),
    sigkeys: kept[0]?.sigkeys ?? [],
  };
}

/** A repo found by its id: its own section, never merged. */
export function directEntry(repo: PulpRepoInfo): PulpEntry {
  return { key: repo.id, kind: "url", url: repo.url, arches: [repo.arch], sigkeys: repo.sigkeys };
}

/** Where an entry is served: Pulp, or (merged) `<result_repo_url>/<content set>/$basearch`. */
export function entryUrl(e: PulpEntry, resultRepoUrl: string): string {
  return e.kind === "url" ? e.url : `${resultRepoUrl}/${e.key}/$basearch`;
}

/**
 * The `.repo` file ODCS writes: sections sorted by key, each after a blank
 * line; with `use_only_compatible_arch` the entry's arches (concatenated)
 * in the URL become `$basearch` and `skip_if_unavailable=1` is added.
 */
export function pulpRepoFileText(
  entries: readonly PulpEntry[],
  onlyCompatibleArch: boolean,
  resultRepoUrl: string,
): string {
  return [...entries]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => {
      const arches = e.arches.join("");
      const base = entryUrl(e, resultRepoUrl);
      const url = onlyCompatibleArch && arches ? base.split(arches).join("$basearch") : base;
      return `\n[${e.key}]\nname=${e.key}\nbaseurl=${url}\nenabled=1\ngpgcheck=0\n${onlyCompatibleArch ? "skip_if_unavailable=1\n" : ""}`;
    })
    .join("");
}
