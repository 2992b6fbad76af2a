/**
 * The per-arch modulemd documents of a module's Koji build: its `module`
 * archives (`listArchives(build, type="module")`) named
 * `modulemd.<arch>.txt`, read from `<build dir>/files/module/`
 * (reference/modules.md §3). `modulemd.txt` is the arch-less document the
 * build's `extra` already carries, so it is not read again.
 */

import type { KojiClient } from "../koji/client.ts";
import type { KojiTop } from "../koji/files.ts";
import {
  listModuleArchives,
  type ModuleBuildInfo,
  moduleFileRelPath,
  readModuleFile,
} from "./koji-modules.ts";

const ARCH_FILE = /^modulemd\.([^.]+)\.txt$/;

/** Arch → document of `build`'s archives; `{}` without a top dir/URL to read them from. */
export async function archModulemdOf(
  hub: KojiClient,
  top: KojiTop | undefined,
  build: ModuleBuildInfo,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<Record<string, string>> {
  if (!top) return {};
  const names = (await listModuleArchives(hub, build.id)).filter((n) => ARCH_FILE.test(n)).sort();
  const docs = await Promise.all(
    names.map((n) => readModuleFile(top, moduleFileRelPath(build, n), opts)),
  );
  const out: Record<string, string> = {};
  names.forEach((n, i) => {
    const arch = ARCH_FILE.exec(n)?.[1];
    if (arch) out[arch] = docs[i] ?? "";
  });
  return out;
}
