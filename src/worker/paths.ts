import { join } from "node:path";

/** Where things live under the target dir (reference/odcs-api.md §13.1). */
export const VARIANT = "Temporary";
export const STAGING_DIR = ".staging";
export const LOG_FILE = "pungi-stderr.log";
/** Trees being deleted: moved here first, so a served path vanishes at once, never piece by piece. */
export const REMOVING_DIR = ".removing";

/**
 * Published trees, one per execution that got that far:
 * `.published/odcs-<id>/<token>`. Never served by name (hidden); the served
 * path `odcs-<id>` is a symlink to the one the database chose
 * (`composes.published_attempt`, worker/published.ts).
 */
export const PUBLISHED_DIR = ".published";

export const composeName = (id: number) => `odcs-${id}`;
/** The served path of a compose: a symlink to its chosen published tree. */
export const finalDir = (targetDir: string, id: number) => join(targetDir, composeName(id));
/** `.published/odcs-<id>`: the compose's published trees. */
export const publishedRoot = (targetDir: string, id: number) =>
  join(targetDir, PUBLISHED_DIR, composeName(id));
/** What the `odcs-<id>` link holds for tree `token`: relative, so the target dir can move. */
export const linkText = (id: number, token: string) => join(PUBLISHED_DIR, composeName(id), token);
export const stagingDir = (targetDir: string, id: number) =>
  join(targetDir, STAGING_DIR, composeName(id));
/** `compose/Temporary/<arch>/os` relative to the compose top dir. */
export const archRepoRel = (arch: string) => join("compose", VARIANT, arch, "os");
/** `Packages/<first letter, lower case>/<file>`: Pungi's hashed_directories layout. */
export function packageRel(fileName: string): string {
  return join("Packages", (fileName[0] ?? "_").toLowerCase(), fileName);
}
