import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../api/deps.ts";
import { crashPoint } from "../crash-points.ts";
import type { Db } from "../db/client.ts";
import { findCompose, hasLiveReusers, listExpired, markRemoved } from "../db/composes.ts";
import type { ComposeRow } from "../db/schema.ts";
import { composeDirStatus } from "../db/sweep-scans.ts";
import { COMPOSE_STATES } from "../domain/states.ts";
import { PUBLISHED_DIR, stagingDir } from "../worker/paths.ts";
import { removeComposeTree } from "../worker/published.ts";

/** Composes expired per sweep run; the rest wait for the next tick. */
const BATCH = 200;

export interface SweepDeps {
  db: Db;
  now: () => Date;
  log: Logger;
  targetDir: string;
  /** ODCS_UPLOAD_DIR: expired uploads' files are deleted there (`expireUploads`). */
  uploadDir?: string;
  /** Abandoned upload dirs (no row, unchanged this long) are deleted (`removeAbandonedUploads`); default 1 h. */
  uploadAbandonedMs?: number;
  /** Event rows older than this many days are pruned (default 14). */
  eventsRetentionDays?: number;
  /** ODCS_WORKER_LEASE_MS: how long expired leases are extended after the database refused a requeue. */
  leaseMs?: number;
  /** Told about each scheduled run (metrics). */
  observe?: (run: SweepRun) => void;
}

export interface SweepRun {
  ok: boolean;
  removed: number;
  eventsPruned: number;
}

/**
 * Mark done/failed composes past `time_to_expire` as `removed`, then delete
 * their files (§11.2). The state change comes first and is conditional on
 * the compose still being expired, so a renewal racing the sweep keeps its
 * files; a crash between the two leaves an orphan dir that
 * `removeOrphanDirs` deletes on a later run. Safe in several processes at
 * once: only one process records each state change.
 */
export async function expireComposes(deps: SweepDeps): Promise<number[]> {
  const now = deps.now().getTime();
  const removed: number[] = [];
  for (const row of await listExpired(deps.db, now, BATCH)) {
    const moved = await markRemoved(deps.db, row, now);
    if (!moved) continue;
    crashPoint("sweep:marked-removed");
    await removeComposeFiles(deps, row);
    removed.push(row.id);
    deps.log.info("compose expired", { compose: row.id });
  }
  return removed;
}

/**
 * Delete the files of a compose just marked removed. A compose reusing
 * another owns no directory (§11.2); the reused one's directory goes when
 * it is removed and no compose pointing at it is left — so removing an
 * original early (admin DELETE, a shorter renewal) never takes the files a
 * live reuser's URLs name, and the last reuser to go takes them along.
 */
async function removeComposeFiles(deps: SweepDeps, row: ComposeRow): Promise<void> {
  const owner = row.reusedId ?? row.id;
  const ownerRow = row.reusedId === null ? row : await findCompose(deps.db, owner);
  const ownerGone =
    ownerRow === undefined || ownerRow.id === row.id || ownerRow.state === COMPOSE_STATES.removed;
  if (ownerGone && !(await hasLiveReusers(deps.db, owner)))
    await removeComposeTree(deps.targetDir, owner);
  // Staging trees a crashed worker left behind are never served; drop them with the compose.
  await rm(stagingDir(deps.targetDir, row.id), { recursive: true, force: true });
}

/**
 * Delete the trees (`odcs-<id>` links and `.published/odcs-<id>`) of
 * composes that are removed or unknown (§11.2 orphans): left by a crash
 * between marking removed and deleting files (or between deleting the link
 * and the trees), or kept for a reuser that is gone now, or linked anew by
 * a worker stalled past the compose's whole life. Kept while a reuser
 * lives. Looks the ids up in batches (`composeDirStatus`), not one by one.
 * Also deletes the temporary links of flips a crash cut short
 * (`.odcs-<id>.link-*`, never served).
 */
export async function removeOrphanDirs(deps: SweepDeps): Promise<number[]> {
  const names = await listDir(deps.targetDir);
  const published = await listDir(join(deps.targetDir, PUBLISHED_DIR));
  const ids = [
    ...new Set(
      [...names, ...published].flatMap((name) => {
        const m = /^odcs-(\d+)$/.exec(name);
        return m ? [Number(m[1])] : [];
      }),
    ),
  ];
  for (const name of names)
    if (/^\.odcs-\d+\.link-/.test(name)) await rm(join(deps.targetDir, name), { force: true });
  const { known, kept } = await composeDirStatus(deps.db, ids);
  const removed: number[] = [];
  for (const id of ids) {
    if (kept.has(id)) continue;
    await removeComposeTree(deps.targetDir, id);
    if (known.has(id)) await rm(stagingDir(deps.targetDir, id), { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
