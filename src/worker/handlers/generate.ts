import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { crashPoint } from "../../crash-points.ts";
import { deleteComposeRpms, listComposeRpms, recordComposeRpms } from "../../db/compose-rpms.ts";
import { findCompose, markBuilding, moveCompose } from "../../db/composes.ts";
import { completeJob, failJobFinally } from "../../db/jobs.ts";
import type { ComposeRow } from "../../db/schema.ts";
import { canonicalJson } from "../../domain/reuse.ts";
import { COMPOSE_STATES, sourceTypeName } from "../../domain/states.ts";
import { REASONS } from "../../domain/transitions.ts";
import { sourceFor } from "../../sources/index.ts";
import { sharedFilePlacer } from "../../sources/place/file-placer.ts";
import { isRepoFileSource } from "../../sources/types.ts";
import { clearFailedCompose } from "../../sweep/leftovers.ts";
import { ComposeLog } from "../compose-log.ts";
import { LeaseLostError } from "../lease.ts";
import { LOG_FILE, publishedRoot, stagingDir } from "../paths.ts";
import { composeSkeleton } from "../pipeline/compose-tree.ts";
import { generateCompose } from "../pipeline/generate.ts";
import { treeArches } from "../pipeline/select-arches.ts";
import {
  linkIfAbsent,
  moveToPublished,
  removeUnchosen,
  servedToken,
  showChosen,
  treeToken,
} from "../published.ts";
import { decideReuse } from "../reuse.ts";
import type { JobContext } from "./types.ts";

const store = <T>(ctx: JobContext, what: string, write: () => Promise<T>): Promise<T> =>
  ctx.untilStored ? ctx.untilStored(what, write) : write();

/** Local paths in reasons become public URLs, as ODCS does (§10.2). */
function publicReason(msg: string, ctx: JobContext): string {
  return msg.split(ctx.config.ODCS_TARGET_DIR).join(ctx.config.ODCS_TARGET_DIR_URL);
}

/**
 * The staging dir of one execution of the job: `.staging/odcs-<id>/attempt-<n>`.
 * Each claim has its own, so a worker that lost its lease (stalled past it)
 * and the worker that took the job over never write into the same tree;
 * the static server shows the log of the highest attempt while generating.
 * Attempt numbers are unique among live executions: a claim increments
 * them, and only a finished (released) execution gives one back.
 */
export function attemptDir(targetDir: string, composeId: number, attempt: number): string {
  return join(stagingDir(targetDir, composeId), `attempt-${attempt}`);
}

/**
 * Move the compose from wait to generating and return it; a compose already
 * generating (a retry after a crash) is returned as it is; anything else
 * (cancelled, settled, gone) is `undefined`. A narrow transition, then the
 * row through the prepared query: UPDATE … RETURNING the whole row costs
 * twice as much, its SQL being built anew each time.
 */
async function startCompose(composeId: number, ctx: JobContext): Promise<ComposeRow | undefined> {
  const moved = await moveCompose(ctx.db, composeId, "wait", "generating", ctx.now().getTime(), {
    stateReason: REASONS.started,
  });
  if (moved) ctx.composeChanged();
  const row = await findCompose(ctx.db, composeId);
  return row?.state === COMPOSE_STATES.generating ? row : undefined;
}

/**
 * The `generate` job: reuse an older compose with the same inputs (§12,
 * `worker/reuse.ts`), or build the compose in a staging dir, publish it
 * with a rename, then — in one transaction fenced by the job's lease —
 * record its package set, mark the compose done and the job complete.
 */
export async function runGenerate(composeId: number, ctx: JobContext): Promise<void> {
  const compose = await startCompose(composeId, ctx);
  if (!compose) {
    // Cancelled or already settled: nothing to do. Fenced like every outcome:
    // a worker stalled past its lease since its claim finds the compose done
    // by the one that took the job over, and must not report the job done.
    if (!(await completeJob(ctx.db, ctx.job.id, ctx.workerId, ctx.now().getTime())))
      throw new LeaseLostError(`job ${ctx.job.id} lease lost before it started`);
    return;
  }
  const target = ctx.config.ODCS_TARGET_DIR;
  const staging = attemptDir(target, compose.id, ctx.job.attempts);
  // Directories are the dearest system calls of a compose. The attempt dir
  // first (clearing a leftover of this attempt), so the log is served from
  // the start; once the compose is to be built, the placement thread makes
  // the rest of the fixed ones while this thread reads the sources and
  // selects (writeComposeTree asks again and so sees any failure).
  const placer = sharedFilePlacer();
  await placer.makeDirs([staging], staging);
  const log = new ComposeLog(join(staging, LOG_FILE), ctx.now);
  log.line(`compose ${compose.id} attempt ${ctx.job.attempts} on worker ${ctx.workerId}`);
  crashPoint("generate:started");
  let decision: Awaited<ReturnType<typeof decideReuse>>;
  try {
    // A retry of a compose already past this step may have followers: it is built, never switched.
    decision = await decideReuse(compose, ctx, {
      allowReuse: compose.stateReason !== REASONS.generating,
      log: (line) => log.line(line),
    });
  } catch (err) {
    log.line(`ERROR: ${(err as Error).message}`);
    await log.close();
    throw err;
  }
  if (decision.kind !== "build") {
    // Done by reuse, or following a compose being built; the job is complete. A
    // reusing compose has no directory of its own: its URLs name the original's.
    await log.close();
    await rm(stagingDir(target, compose.id), { recursive: true, force: true }).catch(() => {});
    ctx.composeChanged();
    return;
  }
  log.line(decision.note);
  const resolved = decision.resolved;
  await markBuilding(ctx.db, compose.id, resolved === undefined ? null : canonicalJson(resolved));
  // A compose that is only its .repo file (pulp) has no arch trees.
  const arches = isRepoFileSource(sourceFor(sourceTypeName(compose.sourceType)))
    ? []
    : treeArches(compose);
  const skeleton = placer.makeDirs(composeSkeleton(staging, arches)).catch(() => {});
  try {
    const regenerate =
      compose.regenerateOf === null ? [] : await listComposeRpms(ctx.db, compose.regenerateOf);
    if (regenerate.length > 0)
      log.line(`regenerating the ${regenerate.length} packages of compose ${compose.regenerateOf}`);
    const result = await generateCompose(compose, staging, {
      config: ctx.config,
      cache: ctx.cache,
      log,
      signal: ctx.signal,
      now: ctx.now,
      pinned: regenerate,
      ...(resolved === undefined ? {} : { resolved }),
      recordPackages: async (rows) => {
        const owner = { jobId: ctx.job.id, workerId: ctx.workerId };
        if (!(await recordComposeRpms(ctx.db, compose.id, rows, owner)))
          throw new LeaseLostError("lease lost while recording the package set");
      },
    });
    log.line("compose finished, publishing");
    await log.close();
    crashPoint("generate:staged");
    await ctx.at?.("staged");
    // Publishing is fenced by the database, not by this check: the tree
    // goes to a place of its own, and only the commit below chooses it. The
    // check spares a worker that knows it lost the job the work.
    await ctx.assertLease();
    await ctx.at?.("leased");
    const token = treeToken(ctx.job.attempts, ctx.workerId);
    await moveToPublished(staging, target, compose.id, token);
    // Served before `done` is committed, if nothing is served yet; a link
    // already there (an earlier attempt's) is replaced only after the commit.
    await linkIfAbsent(target, compose.id, token);
    crashPoint("generate:published");
    await ctx.at?.("published");
    const t = ctx.now().getTime();
    // Published: the outcome is written however long the database needs.
    await store(ctx, "compose done", () =>
      ctx.db.transaction(async (tx) => {
        if (!(await completeJob(tx, ctx.job.id, ctx.workerId, t)))
          throw new LeaseLostError("lease lost before completion");
        await moveCompose(tx, compose.id, "generating", "done", t, {
          stateReason: REASONS.done,
          kojiEvent: compose.kojiEvent ?? result.kojiEvent,
          pungiComposeId: result.pungiComposeId,
          publishedAttempt: token,
          ...result.rewrite,
        });
      }),
    );
    crashPoint("generate:done");
    // The link shows what the database chose, which is this tree now.
    await showChosen(ctx.db, target, compose.id);
    ctx.composeChanged();
    await ctx.at?.("committed");
  } catch (err) {
    log.line(`ERROR: ${(err as Error).message}`);
    // Nothing may still be making directories in the staging tree when the
    // failure path clears and publishes it (the sources can fail first).
    await skeleton;
    await log.close();
    throw err;
  }
  await removeLeftovers(target, compose.id).catch(() => {
    // Only earlier attempts' trees, never served; the sweep removes them.
  });
}

/**
 * Leftovers of earlier attempts and other executions (a crashed or stale
 * worker's staging and published trees): all staging trees, and every
 * published tree but the one `odcs-<id>` shows. Only after the compose
 * was settled by a fenced commit and its link shown: then no execution
 * owns the job, and the link shows the database's choice.
 */
export async function removeLeftovers(target: string, composeId: number): Promise<void> {
  await rm(stagingDir(target, composeId), { recursive: true, force: true });
  await removeUnchosen(target, composeId, await servedToken(target, composeId));
}

/**
 * What a worker does when it finds it lost its job (its lease, at a fenced
 * write): it shows what the database chose, in case the execution that
 * settled the compose died before its flip, and deletes its own trees
 * unless `odcs-<id>` shows them (a first publish linked before its commit,
 * which the owner's flip replaces). Touches nothing else.
 */
export async function discardStale(composeId: number, ctx: JobContext): Promise<void> {
  const target = ctx.config.ODCS_TARGET_DIR;
  const token = treeToken(ctx.job.attempts, ctx.workerId);
  const chosen = await showChosen(ctx.db, target, composeId);
  await rm(attemptDir(target, composeId, ctx.job.attempts), { recursive: true, force: true });
  if (chosen !== token && (await servedToken(target, composeId)) !== token)
    await rm(join(publishedRoot(target, composeId), token), { recursive: true, force: true });
  // Settled: no execution makes its staging dir any more; an empty parent goes too.
  if (chosen !== undefined) await rmdir(stagingDir(target, composeId)).catch(() => {});
}

/** Whether `path` exists; only "no such file" means no, any other error is thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Fail the compose for good (no retry), keeping its log visible at its
 * toplevel URL. The staging tree, cut down to its log, is moved to this
 * execution's published place first (the lease checked before, so a
 * worker that knows it lost its job touches nothing past its own attempt
 * dir; linked if no link is there yet), then chosen by the fenced commit
 * of the failure, then linked: a
 * worker that lost its job has its commit refused and never shows its log
 * in place of the tree of the worker that took the job over. Without a
 * staging tree (failed before it was made) nothing is chosen, and a tree
 * an earlier attempt linked is cut down to its log. Any error of
 * publishing the log is thrown once the failure itself is recorded.
 */
export async function failGenerate(
  composeId: number,
  message: string,
  ctx: JobContext,
): Promise<void> {
  const target = ctx.config.ODCS_TARGET_DIR;
  const staging = attemptDir(target, composeId, ctx.job.attempts);
  const token = treeToken(ctx.job.attempts, ctx.workerId);
  let chosen: string | null = null;
  let unpublished: Error | undefined;
  try {
    if (await exists(staging)) {
      // Only the log is published: a half-written tree (or its STATUS saying
      // FINISHED, written before a later step failed) is not a compose.
      for (const name of await readdir(staging))
        if (name !== LOG_FILE) await rm(join(staging, name), { recursive: true, force: true });
      await ctx.assertLease();
      await moveToPublished(staging, target, composeId, token);
      // Shown before the commit only if nothing is shown yet (as a done tree is).
      await linkIfAbsent(target, composeId, token);
      chosen = token;
    }
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    unpublished = new Error(
      `compose ${composeId} failed, and publishing its log from ${staging} failed too: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const t = ctx.now().getTime();
  const reason = publicReason(REASONS.error(message), ctx);
  await store(ctx, "compose failed", () =>
    ctx.db.transaction(async (tx) => {
      if (!(await failJobFinally(tx, ctx.job.id, ctx.workerId, message, t)))
        throw new LeaseLostError("lease lost before failing");
      await moveCompose(tx, composeId, ["generating", "wait"], "failed", t, {
        stateReason: reason,
        publishedAttempt: chosen,
      });
      await deleteComposeRpms(tx, composeId);
    }),
  );
  if (chosen === null) await clearFailedCompose(target, composeId);
  else await showChosen(ctx.db, target, composeId);
  ctx.composeChanged();
  if (unpublished) throw unpublished;
  await ctx.at?.("failed");
  await removeLeftovers(target, composeId);
}
