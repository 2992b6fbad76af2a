import type { Config } from "../../config.ts";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { parseRepoLocation } from "../../domain/repo-source.ts";
import { SOURCE_TYPES } from "../../domain/states.ts";
import { openKoji } from "../../sources/koji/index.ts";
import { openRepo } from "../../sources/repo.ts";
import type { RepodataCache } from "../../sources/repodata-cache.ts";
import type { OpenedRepo } from "../../sources/types.ts";
import type { ComposeLog } from "../compose-log.ts";
import { writeComposeTree } from "./compose-tree.ts";
import { list, selectArches, treeArches } from "./select-arches.ts";

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
    sigkey?: string | null;
  }[];
}

export interface GenerateResult {
  kojiEvent: number | null;
  pungiComposeId: string;
}

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
  const koji =
    compose.sourceType === SOURCE_TYPES.tag || compose.sourceType === SOURCE_TYPES.build
      ? await openKoji(compose, compose.sourceType === SOURCE_TYPES.tag ? "tag" : "build", ctx)
      : null;
  const repos = koji ? [koji.repo] : await openAll(list(compose.source), ctx, "source");
  const lookaside = await openAll(list(compose.lookasideRepos), ctx, "lookaside repo");
  const arches = treeArches(compose);
  const selections = await selectArches(compose, repos, lookaside, arches, ctx);

  const tree = await writeComposeTree(
    compose,
    dir,
    repos,
    selections.map(({ arch, result }) => ({ arch, packages: result.packages })),
    ctx,
  );
  if (koji) {
    const s = koji.stats;
    ctx.log.line(
      `koji: ${koji.hub.stats.calls} hub calls in ${koji.hub.stats.requests} requests; ${s.links} RPMs linked, ${s.downloads} downloaded (${s.downloadBytes} bytes)`,
    );
    return { ...tree, kojiEvent: koji.kojiEvent };
  }
  const revision = repos[0]?.repodata.revision ?? "";
  return {
    ...tree,
    kojiEvent: /^\d{1,15}$/.test(revision) ? Number(revision) : null,
  };
}
