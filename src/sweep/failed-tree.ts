import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { finalDir, LOG_FILE } from "../worker/paths.ts";

/**
 * Leave only the log in the directory of a compose that was just failed
 * without a worker (an exhausted job). A worker publishes a tree before it
 * records the compose done; one killed in between leaves the whole tree,
 * STATUS FINISHED included, under a compose that is now failed — and a
 * failed compose publishes its log only. Nothing else writes there: the
 * job is failed, so no execution owns it. A missing directory is fine.
 */
export async function keepLogOnly(targetDir: string, composeId: number): Promise<void> {
  const dir = finalDir(targetDir, composeId);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const name of names)
    if (name !== LOG_FILE) await rm(join(dir, name), { recursive: true, force: true });
}
