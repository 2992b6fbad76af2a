import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../api/deps.ts";
import type { Db } from "../db/client.ts";
import { findPublishedMany } from "../db/published.ts";
import { composesInProgress, failedComposes } from "../db/sweep-scans.ts";
import { COMPOSE_STATES } from "../domain/states.ts";
import {
  finalDir,
  LOG_FILE,
  PUBLISHED_DIR,
  REMOVING_DIR,
  STAGING_DIR,
  stagingDir,
} from "../worker/paths.ts";
import { pointLink, removeUnchosen, servedToken } from "../worker/published.ts";

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

export { removeTree } from "../worker/published.ts";

/**
 * A failed compose publishes its log only (`failGenerate`). One failed by
 * the sweep (its last attempt's worker died) may have died after its full
 * tree was linked into place: everything but the log goes from the tree
 * `odcs-<id>` shows (through the link), and so do its
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
 * any more (settled, or unknown), published trees the database did not
 * choose and links that do not show its choice (`settlePublished`), and trees in `.removing/` whose deletion
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
  removed.push(...(await settlePublished(deps)));
  const stagingRoot = join(deps.targetDir, STAGING_DIR);
  const ids = composeIds(await listDir(stagingRoot));
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

/**
 * The published trees of settled composes: `odcs-<id>` is pointed at the
 * tree the database chose (repairing a crash between a settling commit and
 * its flip), and every other tree of the compose is deleted (a stale
 * worker's, refused at its commit; a crashed attempt's). A failed compose
 * the sweep gave up on has no choice: the tree its link shows stays.
 * Composes a job may still work on are left alone, as their staging trees
 * are; removed and unknown ones are `removeOrphanDirs`'s. Returns the paths removed.
 */
async function settlePublished(deps: LeftoverDeps): Promise<string[]> {
  const ids = composeIds(await listDir(join(deps.targetDir, PUBLISHED_DIR)));
  if (ids.length === 0) return [];
  const busy = await composesInProgress(deps.db, ids, deps.now().getTime(), deps.leaseMs ?? 30_000);
  const choices = await findPublishedMany(deps.db, ids);
  const removed: string[] = [];
  for (const id of ids) {
    const c = choices.get(id);
    if (busy.has(id) || !c || c.state === COMPOSE_STATES.removed) continue;
    if (c.publishedAttempt) await pointLink(deps.targetDir, id, c.publishedAttempt);
    const keep = c.publishedAttempt ?? (await servedToken(deps.targetDir, id));
    for (const token of await removeUnchosen(deps.targetDir, id, keep))
      removed.push(join(PUBLISHED_DIR, `odcs-${id}`, token));
  }
  return removed;
}

function composeIds(names: readonly string[]): number[] {
  return names.flatMap((n) => {
    const m = /^odcs-(\d+)$/.exec(n);
    return m ? [Number(m[1])] : [];
  });
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}
