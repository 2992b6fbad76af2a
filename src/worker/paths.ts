import { join } from "node:path";

/** Where things live under the target dir (reference/odcs-api.md §13.1). */
export const VARIANT = "Temporary";
export const STAGING_DIR = ".staging";
export const LOG_FILE = "pungi-stderr.log";
/** Trees being deleted: moved here first, so a served path vanishes at once, never piece by piece. */
export const REMOVING_DIR = ".removing";

export const composeName = (id: number) => `odcs-${id}`;
export const finalDir = (targetDir: string, id: number) => join(targetDir, composeName(id));
export const stagingDir = (targetDir: string, id: number) =>
  join(targetDir, STAGING_DIR, composeName(id));
/** `compose/Temporary/<arch>/os` relative to the compose top dir. */
export const archRepoRel = (arch: string) => join("compose", VARIANT, arch, "os");
/** `Packages/<first letter, lower case>/<file>`: Pungi's hashed_directories layout. */
export function packageRel(fileName: string): string {
  return join("Packages", (fileName[0] ?? "_").toLowerCase(), fileName);
}
