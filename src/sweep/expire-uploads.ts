import { rm } from "node:fs/promises";
import { listExpiredUploads, markUploadRemoved } from "../db/uploads.ts";
import { uploadDir } from "../uploads/store.ts";
import type { SweepDeps } from "./expire.ts";

/** Uploads expired per sweep run; the rest wait for the next tick. */
const BATCH = 200;

/**
 * Mark ready uploads past their expiry `removed` (by nobody: they expired),
 * then delete their files. The row changes first and conditionally, so of
 * several sweeping processes one removes each upload; a crash between the
 * two leaves files no compose can use (the row says removed), which the
 * next run of this function does not see again — hence rm before returning.
 * Without `uploadDir` (a sweep that serves no uploads) it does nothing.
 */
export async function expireUploads(deps: SweepDeps): Promise<string[]> {
  const root = deps.uploadDir;
  if (root === undefined) return [];
  const now = deps.now().getTime();
  const removed: string[] = [];
  for (const row of await listExpiredUploads(deps.db, now, BATCH)) {
    if (!(await markUploadRemoved(deps.db, row.id, now, null))) continue;
    await rm(uploadDir(root, row.id), { recursive: true, force: true });
    removed.push(row.id);
    deps.log.info("upload expired", { upload: row.id });
  }
  return removed;
}
