import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { uploadStates } from "../db/sweep-scans.ts";
import { listExpiredUploads, markUploadRemoved } from "../db/uploads.ts";
import { uploadDir } from "../uploads/store.ts";
import type { SweepDeps } from "./expire.ts";

/** Uploads expired per sweep run; the rest wait for the next tick. */
const BATCH = 200;

/** Default for `SweepDeps.uploadAbandonedMs` (ODCS_UPLOAD_ABANDONED_SECONDS). */
export const DEFAULT_UPLOAD_ABANDONED_MS = 3_600_000;

/** Upload dirs are named by `crypto.randomUUID()`. */
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Mark ready uploads past their expiry `removed` (by nobody: they expired),
 * then delete their files. The row changes first and conditionally, so of
 * several sweeping processes one removes each upload; a crash between the
 * two leaves files of a removed row, which `removeAbandonedUploads` deletes.
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

/**
 * Upload dirs nothing will ever delete otherwise: those of a removed row
 * (the process died between the row and the files), and those with no row
 * at all — a server that died while receiving the upload — once nothing in
 * them changed for `uploadAbandonedMs` (an upload still arriving, perhaps
 * on another server sharing the dir, keeps writing its part file). Returns
 * the ids removed.
 */
export async function removeAbandonedUploads(deps: SweepDeps): Promise<string[]> {
  const root = deps.uploadDir;
  if (root === undefined) return [];
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => UPLOAD_ID.test(n));
  } catch {
    return [];
  }
  const states = await uploadStates(deps.db, names);
  const before = deps.now().getTime() - (deps.uploadAbandonedMs ?? DEFAULT_UPLOAD_ABANDONED_MS);
  const removed: string[] = [];
  for (const id of names) {
    const state = states.get(id);
    if (state === "ready") continue;
    const dir = uploadDir(root, id);
    if (state === undefined && (await lastChange(dir)) >= before) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(id);
    deps.log.info(
      state === undefined ? "removed an abandoned upload dir" : "removed a removed upload's files",
      { upload: id },
    );
  }
  return removed;
}

/** The latest mtime (epoch ms) of `dir` and its entries; +Infinity if it cannot be read. */
async function lastChange(dir: string): Promise<number> {
  try {
    let latest = (await stat(dir)).mtimeMs;
    for (const name of await readdir(dir)) {
      const s = await stat(join(dir, name)).catch(() => undefined);
      if (s && s.mtimeMs > latest) latest = s.mtimeMs;
    }
    return latest;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
