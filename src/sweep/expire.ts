import { rm } from "node:fs/promises";
import type { Logger } from "../api/deps.ts";
import type { Db } from "../db/client.ts";
import { listExpired, markRemoved } from "../db/composes.ts";
import { finalDir, stagingDir } from "../worker/paths.ts";

/** Composes expired per sweep run; the rest wait for the next tick. */
const BATCH = 200;

export interface SweepDeps {
  db: Db;
  now: () => Date;
  log: Logger;
  targetDir: string;
}

/**
 * Remove the files of done/failed composes past `time_to_expire`, then mark
 * them `removed` (§11.2). Files go first: a crash in between leaves a
 * compose that the next run removes again (rm is idempotent), never a
 * `removed` row with files left behind. Safe in several processes at once:
 * the state change is conditional, only one process records it.
 */
export async function expireComposes(deps: SweepDeps): Promise<number[]> {
  const now = deps.now().getTime();
  const removed: number[] = [];
  for (const row of await listExpired(deps.db, now, BATCH)) {
    // A compose reusing another owns no directory (§11.2).
    if (row.reusedId === null)
      await rm(finalDir(deps.targetDir, row.id), { recursive: true, force: true });
    // Staging trees a crashed worker left behind are never served; drop them with the compose.
    await rm(stagingDir(deps.targetDir, row.id), { recursive: true, force: true });
    const moved = await markRemoved(deps.db, row, now);
    if (moved) {
      removed.push(row.id);
      deps.log.info("compose expired", { compose: row.id });
    }
  }
  return removed;
}
