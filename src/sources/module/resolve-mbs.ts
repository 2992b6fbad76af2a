/**
 * Resolution through MBS (reference/modules.md §2), as ODCS's
 * `MBS.get_latest_modules` and `validate_module_list`: per requested id
 * the newest version in state ready (and done with include_done_modules or
 * a full NSVC), all its contexts; the `-devel` fallback; conflicts; then,
 * unless no_deps, the modules they require at runtime, bounded by the
 * requiring module's base module stream version, until nothing new comes.
 */

import { ComposeError } from "../errors.ts";
import { archModulemdOf } from "./arch-modulemd.ts";
import { moduleNvr, nsvcOf } from "./ids.ts";
import { getModuleBuilds } from "./koji-modules.ts";
import { MBS_STATES, type MbsClient, type MbsModuleBuild, type MbsQuery } from "./mbs.ts";
import { develModulemd, parseModulemd } from "./modulemd.ts";
import type { ModuleRequest, ModuleResolveDeps, ResolvedModule } from "./types.ts";

/** An MBS item as resolution uses it (a `-devel` one renamed, with its rewritten modulemd). */
interface Found {
  name: string;
  stream: string;
  version: string;
  context: string;
  item: MbsModuleBuild;
  modulemd: string;
  develOf: string | null;
}

interface Bounds {
  baseModuleBrName?: string | null;
  baseModuleBrStream?: string | null;
  lte?: number | null;
  gte?: number | null;
}

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/**
 * The newest version's items of `id` (ODCS `get_latest_modules`), or the
 * `-devel` fallback; throws ODCS's "Failed to find module …" when none.
 */
async function latestModules(
  mbs: MbsClient,
  id: string,
  includeDone: boolean,
  bounds: Bounds,
  log: (line: string) => void,
): Promise<Found[]> {
  const query = (nsvc: string): MbsQuery => ({
    nsvc,
    state: includeDone ? [MBS_STATES.ready, MBS_STATES.done] : [MBS_STATES.ready],
    verbose: true,
    order_desc_by: "version",
    base_module_br_name: opt(bounds.baseModuleBrName),
    base_module_br_stream: opt(bounds.baseModuleBrStream),
    base_module_br_stream_version_lte: opt(bounds.lte),
    base_module_br_stream_version_gte: opt(bounds.gte),
  });
  // Items come newest version first: stop paging once an older version shows.
  const newestOnly = (items: MbsModuleBuild[]) =>
    items.some((i) => i.version !== items[0]?.version);
  const keepNewest = (items: MbsModuleBuild[]) =>
    items.filter((i) => i.version === items[0]?.version);

  const items = keepNewest(await mbs.moduleBuilds(query(id), newestOnly));
  if (items.length > 0)
    return items.map((item) => ({
      name: item.name,
      stream: item.stream,
      version: item.version,
      context: item.context,
      item,
      modulemd: item.modulemd,
      develOf: null,
    }));
  const [name = "", ...rest] = id.split(":");
  if (name.endsWith("-devel")) {
    const base = name.slice(0, -"-devel".length);
    const devel = keepNewest(await mbs.moduleBuilds(query([base, ...rest].join(":")), newestOnly));
    if (devel.length > 0) {
      log(`mbs: ${id}: no such module; made from ${base}:${rest[0] ?? ""} (the -devel rule)`);
      return devel.map((item) => ({
        name,
        stream: item.stream,
        version: item.version,
        context: item.context,
        item,
        modulemd: develModulemd(item.modulemd, `the modulemd of ${nsvcOf(item)} (MBS)`, name, {
          name: base,
          stream: item.stream,
        }),
        develOf: `${base}:${item.stream}`,
      }));
    }
  }
  throw new ComposeError(
    `Failed to find module ${id} in ${includeDone ? "ready or done" : "ready"} state in the MBS.`,
  );
}

/**
 * The `base_module_br_stream_version_lte/gte` bounds for the dependencies
 * of `item`: its base module's stream_version, and the first run of digits
 * of that base module's stream right-padded with zeros to as many digits
 * (`el8.9.0`, 80900 → 80000). Only these two go into the dependency's
 * query (reference/modules.md §2): only base modules carry a stream
 * version, so they bound the base module build requirement.
 */
export function dependencyBounds(
  item: MbsModuleBuild,
  baseNames: ReadonlySet<string>,
): Bounds | null {
  const br = item.baseModuleBuildrequires.find((b) => baseNames.has(b.name));
  if (!br || br.streamVersion === null) return null;
  const lte = br.streamVersion;
  const digits = /\d+/.exec(br.stream)?.[0];
  const width = String(Math.trunc(lte)).length;
  const gte = digits && digits.length <= width ? Number(digits.padEnd(width, "0")) : null;
  return { lte, gte };
}

export async function mbsResolve(
  req: ModuleRequest,
  deps: ModuleResolveDeps & { mbs: MbsClient },
  baseNames: ReadonlySet<string>,
): Promise<ResolvedModule[]> {
  const log = deps.log ?? (() => {});
  const requested: Found[] = [];
  for (const id of req.modules) {
    // A full NSVC is taken in state done too: the submitter asked for exactly it.
    const includeDone = req.includeDone || id.split(":").length === 4;
    requested.push(
      ...(await latestModules(
        deps.mbs,
        id,
        includeDone,
        {
          baseModuleBrName: req.baseModuleBrName,
          baseModuleBrStream: req.baseModuleBrStream,
          lte: req.baseModuleBrStreamVersionLte,
          gte: req.baseModuleBrStreamVersionGte,
        },
        log,
      )),
    );
  }

  const byNs = new Map<string, Found[]>();
  const chosen: Found[] = [];
  for (const f of requested) {
    const key = `${f.name}:${f.stream}`;
    const old = byNs.get(key);
    if (!old) {
      byNs.set(key, [f]);
      chosen.push(f);
      continue;
    }
    const [first] = old;
    if (first && first.version !== f.version)
      throw new ComposeError(`${nsvcOf(f)} conflicts with ${nsvcOf(first)}`);
    if (old.some((o) => o.context === f.context)) continue;
    old.push(f);
    chosen.push(f);
  }

  if (!req.noDeps) {
    let added = chosen.slice();
    while (added.length > 0) {
      const next: Found[] = [];
      for (const f of added) {
        const md = parseModulemd(f.modulemd, `the modulemd of ${nsvcOf(f)} (MBS)`);
        const bounds = dependencyBounds(f.item, baseNames) ?? {};
        for (const requires of md.requires)
          for (const [name, streams] of Object.entries(requires)) {
            if (baseNames.has(name)) continue;
            for (const stream of streams) {
              const key = `${name}:${stream}`;
              if (byNs.has(key)) continue;
              const found = await latestModules(deps.mbs, key, req.includeDone, bounds, log);
              log(`mbs: ${nsvcOf(f)} requires ${key}: ${found.map(nsvcOf).join(" ")}`);
              byNs.set(key, found);
              next.push(...found);
            }
          }
      }
      chosen.push(...next);
      added = next;
    }
  }

  const modules = chosen.filter((f) => !baseNames.has(f.name));
  const builds = deps.koji
    ? await getModuleBuilds(
        deps.koji,
        modules.map((f) => moduleNvr({ ...f, name: f.develOf ? f.item.name : f.name })),
      )
    : modules.map(() => null);
  return Promise.all(
    modules.map(async (f, i) => {
      const build = builds[i] ?? null;
      const archModulemd =
        deps.koji && build && !f.develOf
          ? await archModulemdOf(deps.koji, deps.kojiTop, build, {
              signal: deps.signal ?? new AbortController().signal,
              timeoutMs: deps.timeoutMs ?? 120_000,
            })
          : {};
      const md = parseModulemd(f.modulemd, `the modulemd of ${nsvcOf(f)} (MBS)`);
      const rpms = new Set(md.rpms);
      for (const [arch, doc] of Object.entries(archModulemd))
        for (const r of parseModulemd(doc, `modulemd.${arch}.txt of ${nsvcOf(f)}`).rpms)
          rpms.add(r);
      return {
        name: f.name,
        stream: f.stream,
        version: f.version,
        context: f.context,
        nsvc: nsvcOf(f),
        kojiTag: f.item.kojiTag,
        modulemd: f.modulemd,
        archModulemd,
        rpms: [...rpms].sort(),
        kojiBuildId: build?.id ?? null,
        develOf: f.develOf,
      };
    }),
  );
}
