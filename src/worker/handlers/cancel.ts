import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { findCompose } from "../../db/composes.ts";
import { ComposeLog } from "../compose-log.ts";
import { finalDir, LOG_FILE } from "../paths.ts";
import { attemptDir, exists, publish, removeLeftovers } from "./generate.ts";
import type { JobContext } from "./types.ts";

/**
 * Clear the files of a job whose compose a DELETE cancelled (state `failed`
 * "Canceled by …" already, the job ended by the same transaction): as for
 * any failure, only the log is published at the compose's toplevel URL.
 * Safe to touch the compose dir: the cancelled job is never claimed again,
 * so no other execution publishes there. When the cancel beat the `done`
 * commit by a hair, this execution's tree is already in place: it is taken
 * back (one rename, so readers see the tree or nothing) and reduced to the
 * log too. Called after the pipeline settled, so no tool of this job runs.
 */
export async function discardCanceled(composeId: number, ctx: JobContext): Promise<void> {
  const target = ctx.config.ODCS_TARGET_DIR;
  const staging = attemptDir(target, composeId, ctx.job.attempts);
  const final = finalDir(target, composeId);
  if (!(await exists(staging))) {
    if (!(await exists(final))) return; // cancelled before anything was made
    await rename(final, staging);
  }
  const row = await findCompose(ctx.db, composeId);
  const log = new ComposeLog(join(staging, LOG_FILE), ctx.now);
  log.line(`${row?.stateReason ?? "Canceled"}: stopped, nothing published`);
  await log.close();
  for (const name of await readdir(staging))
    if (name !== LOG_FILE) await rm(join(staging, name), { recursive: true, force: true });
  await publish(staging, final);
  await removeLeftovers(target, composeId);
}
