/**
 * The module parts of a compose's pipeline (`OpenedSources.modules`): each
 * tree arch takes exactly its streams' RPMs (Pungi's module gather with
 * `gather_method = "nodeps"`: no RPM dependency solving), each arch repo
 * gets `modules.yaml` in its repodata (as `modifyrepo_c --mdtype=modules
 * --compress-type=gz` adds it), and the compose gets productmd
 * `modules.json` (reference/compose-metadata.md §4).
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ComposeRow } from "../../db/schema.ts";
import { modulesYaml } from "../../rpm/modulemd.ts";
import type { SelectResult } from "../../rpm/select.ts";
import { nativeArches } from "../../rpm/tree-arches.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { ComposeError } from "../../sources/errors.ts";
import type { ComposeModules, OpenedRepo } from "../../sources/types.ts";
import { VARIANT } from "../paths.ts";
import { addRepodataFile } from "../tools/add-repodata-file.ts";
import type { GenerateContext } from "./generate.ts";
import type { ComposeInfo } from "./metadata.ts";
import { type ArchSelection, chooseCopies, shorten } from "./select-arches.ts";

const nevraOf = (p: {
  name: string;
  epoch: string | number | null;
  version: string;
  release: string;
  arch: string;
}) => `${p.name}-${p.epoch || "0"}:${p.version}-${p.release}.${p.arch}`;

/**
 * Per tree arch, every RPM of the arch's module streams (a regeneration:
 * the pinned set, which must still be there), then the signed copies the
 * sources choose.
 */
export async function selectModuleArches(
  compose: ComposeRow,
  repos: OpenedRepo[],
  modules: ComposeModules,
  arches: readonly string[],
  ctx: GenerateContext,
): Promise<ArchSelection[]> {
  const selections = arches.map((arch): ArchSelection => {
    let want = new Set(modules.streams.flatMap((s) => s.rpms[arch] ?? []));
    const pinned = ctx.pinned.filter((p) => p.treeArch === arch).map(nevraOf);
    if (ctx.pinned.length > 0) want = new Set(pinned);
    const packages: SelectResult["packages"] = [];
    const seen = new Set<string>();
    repos.forEach((r, repo) => {
      for (const pkg of r.repodata.packages as PackageRecord[]) {
        const key = nevraOf(pkg);
        if (want.has(key) && !seen.has(key)) {
          seen.add(key);
          packages.push({ repo, pkg });
        }
      }
    });
    const missing = [...want].filter((n) => !seen.has(n)).sort();
    if (missing.length > 0)
      throw new ComposeError(
        ctx.pinned.length > 0
          ? `cannot regenerate the same package set for ${arch}: the source no longer has ${shorten(missing)}`
          : `the module content tags have no RPM ${shorten(missing)} for ${arch}`,
      );
    ctx.log.line(`${arch}: ${packages.length} module RPMs`);
    return { arch, result: { packages, missing: [], unresolved: [], unsigned: [] } };
  });
  return chooseCopies(selections, repos, compose);
}

/** Write `arch`'s modules.yaml into the repo at `repoDir`; returns its path relative to the repo. */
export async function addModulesRepodata(
  repoDir: string,
  arch: string,
  modules: ComposeModules,
  ctx: Pick<GenerateContext, "now">,
): Promise<string> {
  const text = modulesYaml(modules.streams, modules.defaults, arch, nativeArches(arch));
  const record = await addRepodataFile(repoDir, {
    type: "modules",
    name: "modules.yaml",
    content: text,
    now: Math.floor(ctx.now().getTime() / 1000),
  });
  return record.location;
}

/**
 * productmd `modules.json`: per variant, tree arch and NSVC, the stream's
 * identity and Koji tag, where its modulemd is (the arch repo's
 * modules.yaml, relative to `compose/`) and its RPMs' NEVRAs.
 */
export async function writeModulesJson(
  composeDir: string,
  info: ComposeInfo,
  modules: ComposeModules,
  /** Per tree arch: modules.yaml relative to the arch repo. */
  modulemdPaths: Readonly<Record<string, string>>,
): Promise<void> {
  const byArch: Record<string, Record<string, unknown>> = {};
  for (const [arch, rel] of Object.entries(modulemdPaths).sort()) {
    const entries: Record<string, unknown> = {};
    for (const s of modules.streams) {
      entries[s.nsvc] = {
        metadata: {
          uid: s.nsvc,
          name: s.name,
          stream: s.stream,
          version: s.version,
          context: s.context,
          koji_tag: s.kojiTag,
        },
        modulemd_path: { binary: `${VARIANT}/${arch}/os/${rel}` },
        rpms: [...(s.rpms[arch] ?? [])].sort(),
      };
    }
    byArch[arch] = entries;
  }
  const json = {
    header: { type: "productmd.modules", version: "1.2" },
    payload: {
      compose: { date: info.date, id: info.id, respin: info.respin, type: info.type },
      modules: { [VARIANT]: byArch },
    },
  };
  await writeFile(
    join(composeDir, "compose", "metadata", "modules.json"),
    `${JSON.stringify(json, null, 4)}\n`,
  );
}
