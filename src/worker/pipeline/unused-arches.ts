import { rmdir } from "node:fs/promises";
import { join } from "node:path";
import { archRepoRel, VARIANT } from "../paths.ts";

/**
 * A source that names its own tree arches (`pungi_compose`) may not have
 * every arch the compose row asked for, whose empty skeleton dirs the
 * handler made before the source was read. Those dirs are removed (only
 * while empty: `rmdir`, never recursive), so the published tree has the
 * arches the compose has. Call it once the tree is written: the skeleton
 * is made in order on the placement thread before the tree's own dirs.
 */
export async function removeUnusedArchDirs(
  dir: string,
  asked: readonly string[],
  used: readonly string[],
): Promise<void> {
  for (const arch of asked) {
    if (used.includes(arch)) continue;
    const repo = join(dir, archRepoRel(arch));
    for (const d of [
      join(repo, "repodata"),
      join(repo, "Packages"),
      repo,
      join(dir, "compose", VARIANT, arch),
    ]) {
      try {
        await rmdir(d);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTEMPTY") throw err;
      }
    }
  }
}
