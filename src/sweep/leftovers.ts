import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Logger } from "../api/deps.ts";
import { crashPoint } from "../crash-points.ts";
import type { Db } from "../db/client.ts";
import { composesInProgress, failedComposes } from "../db/sweep-scans.ts";
import { finalDir, LOG_FILE, REMOVING_DIR, STAGING_DIR, stagingDir } from "../worker/paths.ts";

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Delete the tree `dir` under `targetDir`: first renamed into
 * `<targetDir>/.removing/`, so its served path is gone at once and a reader
 * never sees half of it; then deleted there. A crash in between leaves it
 * in `.removing/`, which `removeLeftovers` empties. A missing `dir` is no error.
 */
export async function removeTree(targetDir: string, dir: string): Promise<void> {
  const trashRoot = join(targetDir, REMOVING_DIR);
  await mkdir(trashRoot, { recursive: true });
  const trash = join(trashRoot, `${basename(dir)}-${randomUUID()}`);
  try {
    await rename(dir, trash);
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  crashPoint("sweep:removing");
  await rm(trash, { recursive: true, force: true });
}

/**
 * A failed compose publishes its log only (`failGenerate`). One failed by
 * the sweep (its last attempt's worker died) may have died after renaming
 * its full tree into place: everything but the log goes, and so do its
 * staging trees (no execution can complete the job any more). The staging
 * trees go last: while one is left, `removeLeftovers` finishes a clearing
 * cut short by a crash (the failed state is committed before it starts).
 */
export async function clearFailedCompose(targetDir: string, composeId: number): Promise<void> {
  const dir = finalDir(targetDir, composeId);
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  for (const name of names)
    if (name !== LOG_FILE) await rm(join(dir, name), { recursive: true, force: true });
  await rm(stagingDir(targetDir, composeId), { recursive: true, force: true });
}

export interface LeftoverDeps {
  db: Db;
  log: Logger;
  targetDir: string;
  now: () => Date;
  /**
   * ODCS_WORKER_LEASE_MS: a cancelled job's staging tree is kept this long
   * after the cancel (default 30 s, the setting's default).
   */
  leaseMs?: number;
}

/**
 * What crashed processes leave behind and nothing else would delete:
 * staging trees (`.staging/odcs-<id>`) of composes no job can be building
 * any more (settled, or unknown), and trees in `.removing/` whose deletion
 * was cut short. Staging trees of composes in wait or generating stay: a
 * live execution may own them, and the one that completes removes its
 * compose's leftovers; so do those of a job cancelled less than a lease ago
 * (its worker discards its run there). Idempotent and safe in several processes at once;
 * run by the sweep and at worker start. Returns the paths removed.
 */
export async function removeLeftovers(deps: LeftoverDeps): Promise<string[]> {
  const removed: string[] = [];
  const trashRoot = join(deps.targetDir, REMOVING_DIR);
  for (const name of await listDir(trashRoot)) {
    await rm(join(trashRoot, name), { recursive: true, force: true });
    removed.push(join(REMOVING_DIR, name));
  }
  const stagingRoot = join(deps.targetDir, STAGING_DIR);
  const names = await listDir(stagingRoot);
  const ids = names.flatMap((n) => {
    const m = /^odcs-(\d+)$/.exec(n);
    return m ? [Number(m[1])] : [];
  });
  const busy = await composesInProgress(deps.db, ids, deps.now().getTime(), deps.leaseMs ?? 30_000);
  // A staging tree of a failed compose means its failure's clearing was cut
  // short (a crash after the commit): the tree published by an earlier
  // attempt may still be there, and goes now, all but the log.
  const failed = await failedComposes(deps.db, ids);
  for (const id of ids) {
    if (busy.has(id)) continue;
    if (failed.has(id)) await clearFailedCompose(deps.targetDir, id);
    else await rm(join(stagingRoot, `odcs-${id}`), { recursive: true, force: true });
    removed.push(join(STAGING_DIR, `odcs-${id}`));
  }
  if (removed.length > 0) deps.log.info("removed leftovers of crashed processes", { removed });
  return removed;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}
