import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { findCompose } from "../../db/composes.ts";
import { chooseCanceledTree } from "../../db/published.ts";
import { clearFailedCompose } from "../../sweep/leftovers.ts";
import { ComposeLog } from "../compose-log.ts";
import { LOG_FILE, publishedRoot } from "../paths.ts";
import { moveToPublished, pointLink, showChosen, treeToken } from "../published.ts";
import { attemptDir, exists, removeLeftovers } from "./generate.ts";
import type { JobContext } from "./types.ts";

/**
 * Clear the files of a job whose compose a DELETE cancelled (state `failed`
 * "Canceled by …" already, the job ended by the same transaction): as for
 * any failure, only the log is published at the compose's toplevel URL.
 * When the cancel beat the `done` commit by a hair, this execution's tree
 * is already published (and linked, if it was the first): it is taken
 * back (one rename, so readers see the tree or nothing) and cut down to
 * the log too. The log's tree is linked at once (nothing but a log can be
 * chosen any more), and chosen in the database only if the cancelled job
 * was this execution's and nothing is chosen yet (`chooseCanceledTree`). Without a tree of its own, a tree
 * an earlier attempt linked is cut down to its log. Called after the
 * pipeline settled, so no tool of this job runs.
 */
export async function discardCanceled(composeId: number, ctx: JobContext): Promise<void> {
  const target = ctx.config.ODCS_TARGET_DIR;
  const staging = attemptDir(target, composeId, ctx.job.attempts);
  const token = treeToken(ctx.job.attempts, ctx.workerId);
  const mine = join(publishedRoot(target, composeId), token);
  if (!(await exists(staging))) {
    if (!(await exists(mine))) {
      // Cancelled before anything was made.
      await clearFailedCompose(target, composeId);
      await removeLeftovers(target, composeId);
      return;
    }
    await rename(mine, staging);
  }
  const reason = (await findCompose(ctx.db, composeId))?.stateReason ?? "Canceled";
  /** The log, cut down to itself, moved to this execution's published tree. */
  const publishLog = async () => {
    await mkdir(staging, { recursive: true });
    const log = new ComposeLog(join(staging, LOG_FILE), ctx.now);
    log.line(`${reason}: stopped, nothing published`);
    await log.close();
    for (const name of await readdir(staging))
      if (name !== LOG_FILE) await rm(join(staging, name), { recursive: true, force: true });
    await moveToPublished(staging, target, composeId, token);
  };
  await publishLog();
  await ctx.at?.("discard-moved");
  // Shown at once, before it is chosen: the compose is failed already and its
  // job ended, so no other execution can be chosen; only the log is shown.
  await pointLink(target, composeId, token);
  const run = { jobId: ctx.job.id, workerId: ctx.workerId, attempts: ctx.job.attempts };
  await chooseCanceledTree(ctx.db, composeId, token, run);
  const chosen = await showChosen(ctx.db, target, composeId);
  if (!chosen) await clearFailedCompose(target, composeId);
  // A worker stopped past its lease after the move can find its tree taken by
  // a sweep meanwhile (nothing had chosen it): once the database has chosen
  // it, the log is written there again (its earlier lines are lost), so the
  // link does not point at nothing.
  else if (chosen === token && !(await exists(mine))) await publishLog();
  await removeLeftovers(target, composeId);
}
