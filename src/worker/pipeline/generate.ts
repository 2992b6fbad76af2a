import type { Config } from "../../config.ts";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { InvalidRequestError } from "../../domain/errors.ts";
import { sourceTypeName } from "../../domain/states.ts";
import { InvalidPatternError } from "../../rpm/select.ts";
import { InvalidSigkeyError } from "../../rpm/sigkeys.ts";
import { ComposeError } from "../../sources/errors.ts";
import { sourceFor } from "../../sources/index.ts";
import type { RepodataCache } from "../../sources/repodata-cache.ts";
import {
  type ComposeRewrite,
  isRepoFileSource,
  type Json,
  type RegeneratedRpm,
  type SourceContext,
} from "../../sources/types.ts";
import type { ComposeLog } from "../compose-log.ts";
import { writeComposeTree } from "./compose-tree.ts";
import { selectModuleArches } from "./modules.ts";
import { writeRepoFileCompose } from "./repo-file-compose.ts";
import { selectArches, treeArches } from "./select-arches.ts";

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
  /** The compose's inputs as `Source.resolve` pinned them for this attempt; absent: resolve here. */
  resolved?: Json;
  /** The package set to reproduce (regeneration of a removed compose); empty = solve afresh. */
  pinned: readonly (RegeneratedRpm & { treeArch: string })[];
}

export interface GenerateResult {
  kojiEvent: number | null;
  /** null: not a Pungi-style compose (pulp). */
  pungiComposeId: string | null;
  /** Fields the source rewrites on the done compose (pulp: arches, sigkeys, source; module: the resolved NSVCs in source). */
  rewrite?: ComposeRewrite;
}

/**
 * Errors the request itself causes — a malformed sigkey or package pattern
 * stored before the API checked it, a location no longer allowed — say so
 * and are not retried: another attempt would fail the same way.
 */
function requestErrorAsComposeError(err: unknown): unknown {
  if (
    err instanceof InvalidSigkeyError ||
    err instanceof InvalidPatternError ||
    err instanceof InvalidRequestError
  )
    return new ComposeError(err.message, { cause: err });
  return err;
}

/**
 * Build the whole compose inside `dir` (the staging top dir): pin and open
 * the compose's source (`sources/index.ts` picks it by type), select and
 * depsolve per arch, place the RPMs, write repodata, the .repo file and
 * productmd metadata. Touches nothing outside `dir`.
 */
export async function generateCompose(
  compose: ComposeRow,
  dir: string,
  ctx: GenerateContext,
): Promise<GenerateResult> {
  try {
    const source = sourceFor(sourceTypeName(compose.sourceType));
    const sctx: SourceContext = {
      config: ctx.config,
      cache: ctx.cache,
      signal: ctx.signal,
      log: (line) => ctx.log.line(line),
      regenerating: ctx.pinned,
    };
    const pinned = ctx.resolved ?? (await source.resolve(compose, sctx));
    if (isRepoFileSource(source))
      return await writeRepoFileCompose(compose, dir, source, pinned, sctx, ctx.config);
    const {
      repos,
      lookaside,
      kojiEvent,
      modules,
      source: stored,
    } = await source.open(pinned, sctx);
    const arches = treeArches(compose);
    const selections = modules
      ? await selectModuleArches(compose, repos, modules, arches, ctx)
      : await selectArches(compose, repos, lookaside, arches, ctx);
    const tree = await writeComposeTree(
      compose,
      dir,
      repos,
      selections.map(({ arch, result }) => ({ arch, packages: result.packages })),
      ctx,
      modules,
    );
    return { ...tree, kojiEvent, ...(stored === undefined ? {} : { rewrite: { source: stored } }) };
  } catch (err) {
    throw requestErrorAsComposeError(err);
  }
}
