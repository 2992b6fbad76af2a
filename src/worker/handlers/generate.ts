import { readdir, rename, rm, stat } from "node:fs/promises";
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
import { ComposeLog } from "../compose-log.ts";
import { LeaseLostError } from "../lease.ts";
import { finalDir, LOG_FILE, stagingDir } from "../paths.ts";
import { composeSkeleton } from "../pipeline/compose-tree.ts";
import { generateCompose } from "../pipeline/generate.ts";
import { treeArches } from "../pipeline/select-arches.ts";
import { decideReuse } from "../reuse.ts";
import type { JobContext } from "./types.ts";

const store = <T>(ctx: JobContext, what: string, write: () => Promise<T>): Promise<T> =>
  ctx.untilStored ? ctx.untilStored(what, write) : write();

/** Local paths in reasons become public URLs, as ODCS does (§10.2). */
function publicReason(msg: string, ctx: JobContext): string {
  return msg.split(ctx.config.ODCS_TARGET_DIR).join(ctx.config.ODCS_TARGET_DIR_URL);
}

/**
 * Replace `dest` by `src` with renames only, so readers see the old or the
 * new tree (or, for an instant, none), never a mix. `src` must exist: a
 * missing source would otherwise take `dest` away and put nothing back.
 * `beforeSwap` (a lease check) runs just before the first rename; if it
 * throws, nothing is renamed.
 */
export async function publish(
  src: string,
  dest: string,
  beforeSwap?: () => Promise<void>,
): Promise<void> {
  await stat(src);
  const trash = `${src}.old`;
  await rm(trash, { recursive: true, force: true });
  await beforeSwap?.();
  try {
    await rename(dest, trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await rename(src, dest);
  await rm(trash, { recursive: true, force: true });
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
    // The lease checked (and extended) right before the renames, not before
    // the awaits above: a worker stalled there past its lease while another
    // built, published and completed the compose would otherwise rename its
    // own tree — half deleted by then — over the finished one.
    await publish(staging, finalDir(target, compose.id), ctx.assertLease);
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
          ...result.rewrite,
        });
      }),
    );
    crashPoint("generate:done");
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
    // Only earlier attempts' trees, never served; removed with the compose at expiry.
  });
}

/**
 * Leftovers of earlier attempts (a crashed or superseded worker's trees).
 * Only after the job's outcome was committed under this execution's lease:
 * then no other execution owns the job, and a worker that lost its lease
 * never gets here (its commit fails first), so it never deletes the tree of
 * the execution that took the job over.
 */
export function removeLeftovers(target: string, composeId: number): Promise<void> {
  return rm(stagingDir(target, composeId), { recursive: true, force: true });
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
 * toplevel URL. The log is published first, with the lease checked right
 * before the rename (as a done tree is): once the failure is committed the
 * compose is settled, and the sweep takes its staging trees for a crashed
 * worker's leftovers (`removeLeftovers`), so they may vanish under a
 * publish that came after the commit. A worker that lost its job touches
 * nothing past its own attempt dir (`LeaseLostError`): the compose dir may
 * hold the done compose of the worker that took the job over. The state
 * change is fenced by the lease too. A missing staging dir (failed before
 * it was made) is no error; any other error of publishing the log is
 * thrown once the failure itself is recorded.
 */
export async function failGenerate(
  composeId: number,
  message: string,
  ctx: JobContext,
): Promise<void> {
  const target = ctx.config.ODCS_TARGET_DIR;
  const staging = attemptDir(target, composeId, ctx.job.attempts);
  let unpublished: Error | undefined;
  try {
    if (await exists(staging)) {
      // Only the log is published: a half-written tree (or its STATUS saying
      // FINISHED, written before a later step failed) is not a compose.
      for (const name of await readdir(staging))
        if (name !== LOG_FILE) await rm(join(staging, name), { recursive: true, force: true });
      await publish(staging, finalDir(target, composeId), ctx.assertLease);
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
      });
      await deleteComposeRpms(tx, composeId);
    }),
  );
  ctx.composeChanged();
  if (unpublished) throw unpublished;
  await ctx.at?.("failed");
  await removeLeftovers(target, composeId);
}
