/**
 * Module builds for tests, over real RPMs: for each module, its RPMs are
 * built (`rpmbuild.ts`), imported into the test Koji hub and tagged into
 * the module's content tag; its modulemd (all arches) and per-arch
 * modulemd documents are generated (`modulemd.ts`); the module build is
 * imported into Koji (`extra.typeinfo.module`, archives) and optionally
 * tagged into a modular tag, and added to the test MBS.
 *
 *   const m = await addModules(model, mbs, [
 *     { name: "app", stream: "1", version: "8090020240101000000", context: "c0ffee01",
 *       rpms: [{ name: "app", arch: "x86_64", files: ["/usr/bin/app"] }], requires: { lib: ["2"] } },
 *   ], { modularTag: "modular-el8" });
 */
import type { BuildState, KojiModel } from "./koji-hub.ts";
import { type MbsServer, platformBr } from "./mbs-server.ts";
import { modulemdV2 } from "./modulemd.ts";
import { type BuiltRpm, buildRpms, type RpmDescription } from "./rpmbuild.ts";

export interface ModuleBuildSpec {
  name: string;
  stream: string;
  version: string;
  context: string;
  rpms?: RpmDescription[];
  /** Runtime requirements besides `platform` (added with the platform stream). */
  requires?: Record<string, string[]>;
  /** The platform the module was built against (default el8.9.0 / 80900). */
  platform?: { stream: string; streamVersion: number | null };
  /** MBS state (default 5, ready); `null`: not in MBS at all. */
  mbsState?: number | null;
  /** Koji build state (default COMPLETE); `null`: no Koji module build. */
  kojiState?: BuildState | null;
  /** Arches with a per-arch modulemd archive (default x86_64). */
  arches?: string[];
  /** Default `module-<name>-<stream>-<version>-<context>`. */
  contentTag?: string;
  /** Tag the Koji module build into these tags (besides `opts.modularTag`). */
  tags?: string[];
  profiles?: Record<string, string[]>;
}

export interface AddedModule {
  spec: ModuleBuildSpec;
  nsvc: string;
  contentTag: string;
  modulemd: string;
  archModulemd: Record<string, string>;
  /** `name-epoch:version-release.arch` of every RPM (all arches), sorted. */
  nevras: string[];
  rpms: BuiltRpm[];
  kojiBuildId: number | null;
  mbsId: number | null;
}

export const nevraOf = (r: BuiltRpm, arch: string) =>
  `${r.description.name}-${r.description.epoch ?? 0}:${r.description.version ?? "1.0"}-${r.description.release ?? "1"}.${arch}`;

/** Adds every module of `specs` (in order, one Koji event or more each). */
export async function addModules(
  model: KojiModel,
  mbs: MbsServer | null,
  specs: ModuleBuildSpec[],
  opts: { modularTag?: string } = {},
): Promise<AddedModule[]> {
  const built = await buildRpms(specs.flatMap((s) => s.rpms ?? []));
  let k = 0;
  const out: AddedModule[] = [];
  for (const spec of specs) {
    const rpms = built.slice(k, k + (spec.rpms?.length ?? 0));
    k += spec.rpms?.length ?? 0;
    const nsvc = `${spec.name}:${spec.stream}:${spec.version}:${spec.context}`;
    const contentTag =
      spec.contentTag ?? `module-${spec.name}-${spec.stream}-${spec.version}-${spec.context}`;
    const platform = spec.platform ?? { stream: "el8.9.0", streamVersion: 80900 };
    const withArch = rpms.map((r) => ({ r, arch: r.description.arch ?? "noarch" }));
    const nevras = withArch.map(({ r, arch }) => nevraOf(r, arch)).sort();
    const base = {
      name: spec.name,
      stream: spec.stream,
      version: spec.version,
      context: spec.context,
      requires: { platform: [platform.stream], ...(spec.requires ?? {}) },
      buildrequires: { platform: [platform.stream] },
      ...(spec.profiles ? { profiles: spec.profiles } : {}),
      xmd: { mbs: { koji_tag: contentTag, mse: "TRUE" } },
    };
    const modulemd = modulemdV2({ ...base, rpms: nevras });
    const archModulemd: Record<string, string> = {};
    for (const arch of spec.arches ?? ["x86_64"])
      archModulemd[arch] = modulemdV2({
        ...base,
        arch,
        rpms: withArch
          .filter((x) => x.arch === arch || x.arch === "noarch")
          .map(({ r, arch: a }) => nevraOf(r, a))
          .sort(),
      });
    if (!model.findTag(contentTag, Number.POSITIVE_INFINITY)) model.createTag(contentTag);
    for (const r of rpms) {
      const d = r.description;
      const nvr = { name: d.name, version: d.version ?? "1.0", release: d.release ?? "1" };
      model.addPackage(contentTag, d.name);
      if (!model.findBuild(nvr)) model.importBuild([r.path]);
      model.tagBuild(contentTag, `${nvr.name}-${nvr.version}-${nvr.release}`);
    }
    let kojiBuildId: number | null = null;
    if (spec.kojiState !== null) {
      const b = model.importModuleBuild({
        name: spec.name,
        stream: spec.stream,
        version: spec.version,
        context: spec.context,
        modulemd,
        contentTag,
        archModulemd,
        ...(spec.kojiState ? { state: spec.kojiState } : {}),
      });
      kojiBuildId = b.buildId;
      for (const tag of [...(opts.modularTag ? [opts.modularTag] : []), ...(spec.tags ?? [])]) {
        model.addPackage(tag, spec.name);
        model.tagBuild(tag, b.nvr);
      }
    }
    let mbsId: number | null = null;
    if (mbs && spec.mbsState !== null)
      mbsId = mbs.add({
        name: spec.name,
        stream: spec.stream,
        version: spec.version,
        context: spec.context,
        state: spec.mbsState ?? 5,
        modulemd,
        kojiTag: contentTag,
        baseModuleBuildrequires: [platformBr(platform.stream, platform.streamVersion)],
      });
    out.push({
      spec,
      nsvc,
      contentTag,
      modulemd,
      archModulemd,
      nevras,
      rpms,
      kojiBuildId,
      mbsId,
    });
  }
  return out;
}
