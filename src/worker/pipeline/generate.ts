import type { Config } from "../../config.ts";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { parseRepoLocation } from "../../domain/repo-source.ts";
import { bitNames, FLAGS, MULTILIB_METHODS } from "../../domain/states.ts";
import { type SelectResult, selectPackages } from "../../rpm/select.ts";
import { sigkeyPolicy } from "../../rpm/sigkeys.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { openRepo } from "../../sources/repo.ts";
import type { RepodataCache } from "../../sources/repodata-cache.ts";
import { candidateArches, fillSigkeys, withoutMissing } from "../../sources/sigkeys.ts";
import type { OpenedRepo } from "../../sources/types.ts";
import type { ComposeLog } from "../compose-log.ts";
import { ComposeError } from "../errors.ts";
import { writeComposeTree } from "./compose-tree.ts";

export interface GenerateContext {
  config: Config;
  cache: RepodataCache;
  log: ComposeLog;
  signal: AbortSignal;
  now: () => Date;
  /**
   * Records the compose's package set while the files are being placed, so
   * the bookkeeping is off the tail of the compose; rejects if the job's
   * lease was lost.
   */
  recordPackages?: (rows: Omit<NewComposeRpmRow, "composeId">[]) => Promise<void>;
  /** The package set to reproduce (regeneration of a removed compose); empty = solve afresh. */
  pinned: readonly {
    treeArch: string;
    name: string;
    epoch: string;
    version: string;
    release: string;
    arch: string;
  }[];
}

export interface GenerateResult {
  kojiEvent: number | null;
  pungiComposeId: string;
}

const list = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);
const shorten = (items: string[], max = 50) =>
  items.length > max
    ? `${items.slice(0, max).join(", ")} and ${items.length - max} more`
    : items.join(", ");

async function openAll(items: string[], ctx: GenerateContext, what: string): Promise<OpenedRepo[]> {
  return Promise.all(
    items.map(async (item) => {
      ctx.log.line(`loading ${what} ${item}`);
      const repo = await openRepo(parseRepoLocation(item, ctx.config), {
        policy: ctx.config,
        cache: ctx.cache,
        signal: ctx.signal,
        downloadTimeoutMs: ctx.config.ODCS_DOWNLOAD_TIMEOUT_MS,
      });
      ctx.log.line(
        `${item}: ${repo.repodata.packages.length} packages, revision ${repo.repodata.revision || "(none)"}`,
      );
      return repo;
    }),
  );
}

function pinnedSelection(repos: OpenedRepo[], arch: string, ctx: GenerateContext): SelectResult {
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
    for (const pkg of r.repodata.packages)
      if (!found.has(key(pkg))) found.set(key(pkg), { repo, pkg });
  });
  const packages = want.flatMap((p) => found.get(key(p)) ?? []);
  const missing = want.filter((p) => !found.has(key(p))).map(key);
  return { packages, missing, unresolved: [], unsigned: [] };
}

function check(result: SelectResult, arch: string, compose: ComposeRow, pinned: boolean): void {
  // First: a package filtered out by its signature would otherwise read as "not present".
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
 * The compose's key preference as `selectPackages` wants it: lower-case 8-hex
 * ids, best first, `""` (unsigned allowed) last; `null` when not filtering.
 */
function signingKeys(compose: ComposeRow): string[] | null {
  if (compose.sigkeys === "") return null;
  const policy = sigkeyPolicy(compose.sigkeys.split(" "));
  return [...policy.keys, ...(policy.allowUnsigned ? [""] : [])];
}

/**
 * Build the whole compose of a `repo` source inside `dir` (the staging top
 * dir): select and depsolve per arch, place the RPMs, write repodata, the
 * .repo file and productmd metadata. Touches nothing outside `dir`.
 */
export async function generateRepoCompose(
  compose: ComposeRow,
  dir: string,
  ctx: GenerateContext,
): Promise<GenerateResult> {
  const repos = await openAll(list(compose.source), ctx, "source");
  const lookaside = await openAll(list(compose.lookasideRepos), ctx, "lookaside repo");
  const arches = [...new Set(list(compose.arches))];
  const pinned = ctx.pinned.length > 0;
  const sigkeys = signingKeys(compose);
  let unreadable: ReadonlySet<PackageRecord> = new Set();
  if (sigkeys) {
    // Before solving, so the filter sees every candidate; cached records are not read again.
    const filled = await fillSigkeys(
      repos,
      candidateArches(arches, list(compose.multilibArches)),
      ctx.signal,
    );
    ctx.log.line(
      `sigkeys: read ${filled.read} RPM headers in ${filled.ms.toFixed(1)} ms (${filled.known} already known)`,
    );
    unreadable = filled.missing;
    if (unreadable.size > 0)
      ctx.log.line(
        `sigkeys: left out, listed but missing from the source: ${shorten([...unreadable].map((p) => p.location))}`,
      );
  }
  const selections = arches.map((arch) => {
    const started = performance.now();
    const result = pinned
      ? pinnedSelection(repos, arch, ctx)
      : selectPackages({
          repos: repos.map((r) => withoutMissing(r.repodata, unreadable)),
          lookaside: lookaside.map((r) => r.repodata),
          packages: compose.packages === null ? null : list(compose.packages),
          arch,
          noDeps: (compose.flags & FLAGS.no_deps) !== 0,
          multilibArches: list(compose.multilibArches),
          multilibMethods: bitNames(MULTILIB_METHODS, compose.multilibMethod),
          sigkeys,
        });
    ctx.log.line(
      `${arch}: selected ${result.packages.length} packages in ${(performance.now() - started).toFixed(1)} ms`,
    );
    for (const u of result.unresolved)
      ctx.log.line(`${arch}: unresolved: ${u.nevra} requires ${u.dep}`);
    check(result, arch, compose, pinned);
    return { arch, result };
  });

  const tree = await writeComposeTree(
    compose,
    dir,
    repos,
    selections.map(({ arch, result }) => ({ arch, packages: result.packages })),
    ctx,
  );
  const revision = repos[0]?.repodata.revision ?? "";
  return {
    ...tree,
    kojiEvent: /^\d{1,15}$/.test(revision) ? Number(revision) : null,
  };
}
