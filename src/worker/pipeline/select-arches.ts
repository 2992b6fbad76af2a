/**
 * Which packages each tree arch of a `repo` compose gets: solve (or take the
 * pinned set of a regeneration), then, when the compose has sigkeys, read
 * the signatures of the selected packages only and swap in their
 * best-signed copies (`rpm/select-signed.ts`). Fails the compose with a
 * reason a person can act on.
 */

import type { ComposeRow } from "../../db/schema.ts";
import { bitNames, FLAGS, MULTILIB_METHODS } from "../../domain/states.ts";
import { multilibListsFor } from "../../rpm/multilib.ts";
import type { Repodata } from "../../rpm/repodata-read.ts";
import { type SelectResult, selectPackages } from "../../rpm/select.ts";
import { preferSignedCopies, signatureCandidates } from "../../rpm/select-signed.ts";
import { sigkeyPolicy } from "../../rpm/sigkeys.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { ComposeError } from "../../sources/errors.ts";
import { fillSigkeys, withoutMissing } from "../../sources/sigkeys.ts";
import type { OpenedRepo } from "../../sources/types.ts";
import type { GenerateContext } from "./generate.ts";

export interface ArchSelection {
  arch: string;
  result: SelectResult;
}

/** A space-separated list column as a list. */
export const list = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

/** The compose's tree arches, each once, in request order. */
export const treeArches = (compose: Pick<ComposeRow, "arches">) => [
  ...new Set(list(compose.arches)),
];

export const shorten = (items: string[], max = 50) =>
  items.length > max
    ? `${items.slice(0, max).join(", ")} and ${items.length - max} more`
    : items.join(", ");

/**
 * The compose's key preference as `preferSignedCopies` wants it: lower-case
 * 8-hex ids, best first, `""` (unsigned allowed) last; `null` when not filtering.
 */
function signingKeys(compose: ComposeRow): string[] | null {
  if (compose.sigkeys === "") return null;
  const policy = sigkeyPolicy(compose.sigkeys.split(" "));
  return [...policy.keys, ...(policy.allowUnsigned ? [""] : [])];
}

function pinnedSelection(repos: Repodata[], arch: string, ctx: GenerateContext): SelectResult {
  const want = ctx.pinned.filter((p) => p.treeArch === arch);
  const key = (p: {
    name: string;
    epoch: string;
    version: string;
    release: string;
    arch: string;
  }) => `${p.name}-${p.epoch || "0"}:${p.version}-${p.release}.${p.arch}`;
  const found = new Map<string, { repo: number; pkg: PackageRecord }>();
  repos.forEach((r, repo) => {
    for (const pkg of r.packages) if (!found.has(key(pkg))) found.set(key(pkg), { repo, pkg });
  });
  const packages = want.flatMap((p) => found.get(key(p)) ?? []);
  const missing = want.filter((p) => !found.has(key(p))).map(key);
  return { packages, missing, unresolved: [], unsigned: [] };
}

function check(result: SelectResult, arch: string, compose: ComposeRow, pinned: boolean): void {
  if (result.unsigned.length > 0) {
    throw new ComposeError(
      `these packages for ${arch} have no signature by an allowed key (sigkeys "${compose.sigkeys}"): ${shorten(result.unsigned)}`,
    );
  }
  if (result.missing.length > 0) {
    throw new ComposeError(
      pinned
        ? `cannot regenerate the same package set for ${arch}: the source no longer has ${shorten(result.missing)}`
        : `The following requested packages are not present in the generated compose: ${shorten(result.missing)}.`,
    );
  }
  const checkDeps = (compose.flags & FLAGS.check_deps) !== 0;
  if (checkDeps && result.unresolved.length > 0) {
    const lines = result.unresolved.map((u) => `${u.nevra} requires ${u.dep}`);
    throw new ComposeError(
      `unresolvable dependencies for ${arch} (check_deps): ${shorten(lines, 100)}`,
    );
  }
}

/**
 * With sources that choose the file of each selected package (Koji), the
 * selections with those files; fails listing every selected package that
 * has no copy signed by an allowed key.
 */
export async function chooseCopies(
  selections: ArchSelection[],
  repos: OpenedRepo[],
  compose: ComposeRow,
): Promise<ArchSelection[]> {
  const swaps = new Map<PackageRecord, PackageRecord>();
  const problems: string[] = [];
  for (const [i, repo] of repos.entries()) {
    if (!repo.chooseCopies) continue;
    const selected = new Set<PackageRecord>();
    for (const { result } of selections)
      for (const p of result.packages) if (p.repo === i) selected.add(p.pkg);
    const r = await repo.chooseCopies([...selected]);
    for (const [a, b] of r.chosen) swaps.set(a, b);
    problems.push(...r.problems);
  }
  if (problems.length > 0)
    throw new ComposeError(
      `these packages have no copy signed by an allowed key (sigkeys "${compose.sigkeys}"): ${shorten(problems)}`,
    );
  return selections.map(({ arch, result }) => ({
    arch,
    result: {
      ...result,
      packages: result.packages.map((p) => ({ repo: p.repo, pkg: swaps.get(p.pkg) ?? p.pkg })),
    },
  }));
}

function solveArches(
  compose: ComposeRow,
  repos: Repodata[],
  lookaside: Repodata[],
  arches: string[],
  ctx: GenerateContext,
): ArchSelection[] {
  const pinned = ctx.pinned.length > 0;
  return arches.map((arch) => {
    const started = performance.now();
    const result = pinned
      ? pinnedSelection(repos, arch, ctx)
      : selectPackages({
          repos,
          lookaside,
          packages: compose.packages === null ? null : list(compose.packages),
          arch,
          noDeps: (compose.flags & FLAGS.no_deps) !== 0,
          multilibArches: list(compose.multilibArches),
          multilibMethods: bitNames(MULTILIB_METHODS, compose.multilibMethod),
          multilibLists: multilibListsFor(
            arch,
            ctx.config.ODCS_MULTILIB_BLACKLIST,
            ctx.config.ODCS_MULTILIB_WHITELIST,
          ),
          sigkeys: null,
        });
    ctx.log.line(
      `${arch}: selected ${result.packages.length} packages in ${(performance.now() - started).toFixed(1)} ms`,
    );
    for (const u of result.unresolved)
      ctx.log.line(`${arch}: unresolved: ${u.nevra} requires ${u.dep}`);
    // Before any header is read: a missing request or dependency fails the same with or without sigkeys.
    check(result, arch, compose, pinned);
    return { arch, result };
  });
}

/**
 * The selection of every tree arch, checked. With sigkeys, the headers of
 * the selected packages (and of their copies in other source repos) are read
 * once solved. An RPM the metadata lists but the source does not have cannot
 * be checked, so it is left out as if absent and the arches are solved again
 * without it (another copy or provider may take its place); each round reads
 * only headers not read before.
 */
export async function selectArches(
  compose: ComposeRow,
  repos: OpenedRepo[],
  lookaside: OpenedRepo[],
  arches: string[],
  ctx: GenerateContext,
): Promise<ArchSelection[]> {
  const pinned = ctx.pinned.length > 0;
  // A source that chose each package's copy itself (Koji) says which have no acceptable one.
  const bySource = repos.some((r) => r.chooseCopies);
  const sigkeys = bySource ? null : signingKeys(compose);
  const lookasideData = lookaside.map((r) => r.repodata);
  let missing = new Set<PackageRecord>();
  for (;;) {
    const sources = repos.map((r) => withoutMissing(r.repodata, missing));
    const selections = solveArches(compose, sources, lookasideData, arches, ctx);
    if (bySource) return chooseCopies(selections, repos, compose);
    if (!sigkeys) return selections;
    const selected = new Set(selections.flatMap((s) => s.result.packages.map((p) => p.pkg)));
    const candidates = selections.flatMap((s) => signatureCandidates(s.result, sources));
    const filled = await fillSigkeys(
      candidates.map(({ repo, pkg }) => {
        const source = repos[repo];
        if (!source) throw new Error(`selection names unknown repo ${repo}`);
        return { repo: source, pkg };
      }),
      ctx.signal,
    );
    ctx.log.line(
      `sigkeys: read ${filled.read} RPM headers in ${filled.ms.toFixed(1)} ms (${filled.known} already known) for ${selected.size} selected packages`,
    );
    if (filled.missing.size === 0) {
      return selections.map(({ arch, result }) => {
        const signed = preferSignedCopies(result, sources, sigkeys);
        check(signed, arch, compose, pinned);
        return { arch, result: signed };
      });
    }
    ctx.log.line(
      `sigkeys: left out, listed but missing from the source: ${shorten([...filled.missing].map((p) => p.location))}`,
    );
    missing = new Set([...missing, ...filled.missing]);
  }
}
