/**
 * The signature check of a `repo` compose, on the result only: the solver
 * runs without looking at signatures (every copy acceptable; of the same
 * NEVRA in several repos the first repo's copy is taken), then every
 * selected package is replaced by its copy signed with the most preferred
 * acceptable key. Only the selected packages and their copies need their
 * headers read, so a small request on a large repository reads a handful,
 * and unsigned packages the compose does not take do not fail it. (Pungi
 * checks every RPM of a Koji tag instead: `SelectInput.sigkeys`.)
 *
 * Which copies may replace a selected package: the same NEVRA and the same
 * build — build time, source RPM, installed size, every dependency list and
 * the file list. Copies signed with different keys differ only in their
 * signature header (so in pkgid and file size, never in the main header),
 * and swapping one for another cannot change what the closure needs. A copy
 * with the same NEVRA but other metadata is another build whose
 * dependencies the solver never looked at: it is not a candidate, so when
 * only such a copy has an acceptable key the package is reported unsigned.
 */

import { formatDep } from "./dep-match.ts";
import { compareEvr } from "./evr.ts";
import { getRepoIndex } from "./repo-index.ts";
import type { Repodata } from "./repodata-read.ts";
import { nevraOf, type SelectedPackage, type SelectResult } from "./select.ts";
import { pickSignedCopy, sigkeyPolicy } from "./sigkeys.ts";
import { DEP_KINDS, type Dep, type FileEntry, type PackageRecord } from "./types.ts";

const sameDeps = (a: Dep[], b: Dep[]) =>
  a.length === b.length &&
  a.every((d, i) => {
    const e = b[i];
    return e !== undefined && formatDep(d) === formatDep(e) && !d.pre === !e.pre;
  });

const sameFiles = (a: FileEntry[], b: FileEntry[]) =>
  a.length === b.length && a.every((f, i) => f.path === b[i]?.path && f.type === b[i]?.type);

/**
 * Whether `b` is the same build as `a` as far as repodata tells. Files are
 * compared when both records carry the same kind of list (full filelists or
 * the primary subset).
 */
export function isSameBuild(a: PackageRecord, b: PackageRecord): boolean {
  if (a === b) return true;
  if (
    a.name !== b.name ||
    a.arch !== b.arch ||
    compareEvr(a, b) !== 0 ||
    a.timeBuild !== b.timeBuild ||
    a.sourcerpm !== b.sourcerpm ||
    a.sizeInstalled !== b.sizeInstalled
  )
    return false;
  if (!DEP_KINDS.every((kind) => sameDeps(a[kind], b[kind]))) return false;
  return a.hasFullFilelist !== b.hasFullFilelist || sameFiles(a.files, b.files);
}

/** The copies that may stand for `sel` in `repos`: `sel` first, then the others in repo order. */
export function copiesOf(sel: SelectedPackage, repos: readonly Repodata[]): SelectedPackage[] {
  const out = [sel];
  repos.forEach((repodata, repo) => {
    const index = getRepoIndex(repodata);
    for (const i of index.names.get(sel.pkg.name) ?? []) {
      const pkg = index.packages[i];
      if (pkg && pkg !== sel.pkg && isSameBuild(sel.pkg, pkg)) out.push({ repo, pkg });
    }
  });
  return out;
}

/**
 * Every record whose signature the check needs: the selected packages and
 * their copies, each record once. Work is proportional to the selection,
 * not to the size of the repositories.
 */
export function signatureCandidates(
  result: Pick<SelectResult, "packages">,
  repos: readonly Repodata[],
): SelectedPackage[] {
  const seen = new Set<PackageRecord>();
  const out: SelectedPackage[] = [];
  for (const sel of result.packages) {
    for (const c of copiesOf(sel, repos)) {
      if (seen.has(c.pkg)) continue;
      seen.add(c.pkg);
      out.push(c);
    }
  }
  return out;
}

/**
 * `result` with every selected package replaced by its copy signed with the
 * most preferred acceptable key (`sigkeys` as `SelectInput.sigkeys`: key
 * ids best first, `""` = unsigned allowed, after every key). A tie keeps the
 * solver's copy. Copies whose `sigkey` is unknown (never read, or the file
 * is missing) are never acceptable. `unsigned` lists, sorted, the selected
 * packages with no acceptable copy; they stay in `packages` as solved.
 */
export function preferSignedCopies(
  result: SelectResult,
  repos: readonly Repodata[],
  sigkeys: readonly string[],
): SelectResult {
  const policy = sigkeyPolicy(sigkeys);
  const unsigned = new Set<string>();
  const packages = result.packages.map((sel) => {
    const copies = copiesOf(sel, repos)
      .filter((c) => c.pkg.sigkey !== undefined)
      .map((c) => ({ copy: c, sigkey: c.pkg.sigkey }));
    const best = pickSignedCopy(copies, policy);
    if (best) return best.copy;
    unsigned.add(nevraOf(sel.pkg));
    return sel;
  });
  return { ...result, packages, unsigned: [...unsigned].sort() };
}
