/**
 * `module` composes (ODCS source type 2; reference/modules.md): the
 * requested module streams resolved to NSVCs (MBS, or the modular Koji
 * tags — `resolve.ts`), pinned with the Koji event; then, per tree arch,
 * the RPMs of each stream's content tag at that event
 * (`listTaggedRPMS(tag, event, inherit=False, latest=True)`, Pungi's
 * `pkgset_koji_inherit_modules = False`) whose `(name, arch)` the stream's
 * modulemd for that arch lists in `artifacts.rpms`. No RPM-level
 * dependency solving (Pungi's `gather_method = "nodeps"`). Signed copies
 * are chosen as for tag composes. The worker writes `modules.yaml` into
 * each arch repo (`worker/pipeline/modules.ts`).
 */

import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { ComposeRow } from "../../db/schema.ts";
import {
  archArtifacts,
  archModulemdText,
  ModulemdError,
  parseNevra,
  withArtifacts,
} from "../../rpm/modulemd.ts";
import { nativeArches } from "../../rpm/tree-arches.ts";
import { ComposeError } from "../errors.ts";
import { emptyTransferStats } from "../koji/files.ts";
import { sharedHeaderCache } from "../koji/header-cache.ts";
import { type KojiBuild, type KojiRpm, listTaggedRpms } from "../koji/hub.ts";
import { kojiArches, kojiClient, kojiKeys, kojiTop } from "../koji/index.ts";
import {
  type CachedHeader,
  DOWNLOAD_CONCURRENCY,
  HEADER_READ_CONCURRENCY,
  nevraOfRpm,
  openKojiPackageSet,
} from "../koji/package-set.ts";
import { pinKojiEvent, tagAtEvent } from "../koji/tag.ts";
import { openLookaside } from "../repo.ts";
import type { ComposeModuleStream, Json, OpenedSources, Source, SourceContext } from "../types.ts";
import { fetchModuleDefaults, parseDefaultsSpec } from "./defaults.ts";
import { moduleRequestOf, moduleResolveDeps } from "./request.ts";
import { resolveModules } from "./resolve.ts";

/** What the contents step needs of a resolved module stream (`resolve.ts`'s ResolvedModule has more). */
export interface ModuleStreamInput {
  name: string;
  stream: string;
  version: string;
  context: string;
  nsvc: string;
  /** Content tag: where the stream's RPMs are tagged. */
  kojiTag: string;
  /** modulemd v2 of the stream (all arches). */
  modulemd: string;
  /** Arch-specific modulemd per tree arch (Koji archives `modulemd.<arch>.txt`). */
  archModulemd?: Record<string, string>;
  /** A `-devel` module made from its non-devel module (MBS rule): that module's `N:S`. */
  develOf?: string | null;
}

/** Resolve the compose's requested modules to streams at Koji event `event`. Throws `ComposeError`. */
export type ModuleResolver = (
  compose: ComposeRow,
  ctx: SourceContext,
  event: number,
) => Promise<ModuleStreamInput[]>;

/** A stream as pinned: JSON. */
type PinnedStream = {
  [key: string]: Json;
  name: string;
  stream: string;
  version: string;
  context: string;
  nsvc: string;
  kojiTag: string;
  modulemd: string;
  archModulemd: { [arch: string]: string };
  develOf: string | null;
};

export interface ModulePinned {
  [key: string]: Json;
  type: "module";
  event: number;
  /** Tree arches. */
  arches: string[];
  keys: string[];
  /** Requested package names (a filter on the module RPMs); `null`: all of them. */
  packages: string[] | null;
  streams: PinnedStream[];
  /** `modulemd-defaults` of the streams' modules, and where they came from (`<url> <commit>`). */
  defaults: { module: string; text: string }[];
  defaultsFrom: string | null;
  lookaside: string[];
}

const list = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);
const sortedUnique = (xs: readonly string[]) => [...new Set(xs)].sort();

async function resolveModule(
  resolveModules: ModuleResolver,
  compose: ComposeRow,
  ctx: SourceContext,
): Promise<ModulePinned> {
  const hub = kojiClient(ctx.config, ctx.signal);
  const event = await pinKojiEvent(hub, compose.kojiEvent);
  const resolved = await resolveModules(compose, ctx, event);
  if (resolved.length === 0)
    throw new ComposeError(`no module stream found for ${compose.source || "the request"}`);
  const streams: PinnedStream[] = resolved
    .map((m) => ({
      name: m.name,
      stream: m.stream,
      version: String(m.version),
      context: m.context,
      nsvc: m.nsvc,
      kojiTag: m.kojiTag,
      modulemd: m.modulemd,
      archModulemd: { ...(m.archModulemd ?? {}) },
      develOf: m.develOf ?? null,
    }))
    .sort((a, b) => (a.nsvc < b.nsvc ? -1 : a.nsvc > b.nsvc ? 1 : 0));
  ctx.log(`module: ${streams.map((s) => s.nsvc).join(" ")} at Koji event ${event}`);
  const spec = parseDefaultsSpec(compose.moduleDefaultsUrl);
  let defaults: ModulePinned["defaults"] = [];
  if (spec) {
    const names = new Set(streams.map((s) => s.name));
    const fetched = await fetchModuleDefaults(spec, ctx);
    defaults = fetched.documents.filter((d) => names.has(d.module));
    ctx.log(
      `module: defaults from ${spec.url} at ${fetched.commit}: ${defaults.map((d) => d.module).join(" ") || "none for these modules"}`,
    );
  }
  const packages = compose.packages === null ? null : sortedUnique(list(compose.packages));
  return {
    type: "module",
    event,
    arches: sortedUnique(list(compose.arches)),
    keys: kojiKeys(compose.sigkeys),
    packages: packages && packages.length > 0 ? packages : null,
    streams,
    defaults,
    defaultsFrom: spec ? `${spec.url} ${spec.ref}` : null,
    lookaside: list(compose.lookasideRepos),
  };
}

const nameArch = (n: { name: string; arch: string }) => `${n.name}.${n.arch}`;

/** Per tree arch, the `(name, arch)` pairs of the stream's artifacts. */
function artifactPairs(s: PinnedStream, arches: readonly string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const arch of arches) {
    let nevras: string[];
    try {
      nevras = archArtifacts(s, arch, nativeArches(arch));
    } catch (err) {
      if (err instanceof ModulemdError)
        throw new ComposeError(`cannot read the modulemd of ${s.nsvc}: ${err.message}`);
      throw err;
    }
    const pairs = new Set<string>();
    for (const n of nevras) {
      const p = parseNevra(n);
      if (p) pairs.add(nameArch(p));
    }
    out.set(arch, pairs);
  }
  return out;
}

async function openModule(pinned: ModulePinned, ctx: SourceContext): Promise<OpenedSources> {
  setMaxListeners(4 * (HEADER_READ_CONCURRENCY + DOWNLOAD_CONCURRENCY), ctx.signal);
  const hub = kojiClient(ctx.config, ctx.signal);
  const top = kojiTop(ctx.config);
  const rpmArches = kojiArches({ arches: pinned.arches.join(" "), multilibArches: "" });
  const builds = new Map<number, KojiBuild>();
  const rpms = new Map<number, KojiRpm>();
  const streams: ComposeModuleStream[] = [];
  // One listing per content tag (several streams may share one).
  const listings = new Map<string, Promise<{ rpms: KojiRpm[]; builds: KojiBuild[] }>>();
  const listTag = (tag: string) => {
    let l = listings.get(tag);
    if (!l) {
      l = (async () => {
        await tagAtEvent(hub, tag, pinned.event);
        return listTaggedRpms(hub, tag, { event: pinned.event, inherit: false, arches: rpmArches });
      })();
      listings.set(tag, l);
    }
    return l;
  };
  const wanted = pinned.packages ? new Set(pinned.packages) : null;
  for (const s of pinned.streams) {
    // A -devel module holds what its content tag has beyond its non-devel module's artifacts (Pungi).
    const develOf = s.develOf
      ? pinned.streams.find((o) => `${o.name}:${o.stream}` === s.develOf && o.kojiTag === s.kojiTag)
      : undefined;
    const pairs = artifactPairs(develOf ?? s, pinned.arches);
    const listed = await listTag(s.kojiTag);
    for (const b of listed.builds) builds.set(b.id, b);
    const perArch: Record<string, string[]> = {};
    const archModulemd = { ...s.archModulemd };
    for (const arch of pinned.arches) {
      const listedIn = pairs.get(arch) ?? new Set();
      const families = new Set([...nativeArches(arch), "noarch"]);
      const kept = listed.rpms.filter(
        (r) =>
          families.has(r.arch) &&
          listedIn.has(nameArch(r)) === !develOf &&
          (wanted === null || wanted.has(r.name)),
      );
      for (const r of kept) rpms.set(r.id, r);
      perArch[arch] = sortedUnique(kept.map((r) => nevraOfRpm(r)));
      if (develOf)
        archModulemd[arch] = withArtifacts(
          archModulemdText(s, arch, nativeArches(arch)),
          arch,
          perArch[arch],
        );
    }
    streams.push({ ...s, archModulemd, rpms: perArch });
    ctx.log(
      `module: ${s.nsvc}: content tag ${s.kojiTag}, ${pinned.arches.map((a) => `${a} ${perArch[a]?.length ?? 0} RPMs`).join(", ")}`,
    );
  }
  if (wanted) {
    const present = new Set([...rpms.values()].map((r) => r.name));
    const missing = [...wanted].filter((n) => !present.has(n));
    if (missing.length > 0)
      throw new ComposeError(
        `The following requested packages are not present in the generated compose: ${missing.join(" ")}.`,
      );
  }
  // Regeneration takes each RPM from the key it had.
  const pinnedKeys = new Map(
    (ctx.regenerating ?? []).map((p) => [
      nevraOfRpm({ ...p, epoch: Number(p.epoch) }),
      p.sigkey ?? null,
    ]),
  );
  const stats = emptyTransferStats();
  const [repo, lookaside] = await Promise.all([
    openKojiPackageSet(
      {
        origin: `koji module content tags at event ${pinned.event}`,
        rpms: [...rpms.values()],
        builds,
        keys: pinned.keys,
        ...(pinnedKeys.size > 0 ? { pinnedKeys } : {}),
      },
      {
        hub,
        top,
        cache: sharedHeaderCache<CachedHeader>(join(ctx.config.ODCS_CACHE_DIR, "koji-headers")),
        stats,
        signal: ctx.signal,
        timeoutMs: ctx.config.ODCS_KOJI_TIMEOUT_MS,
      },
    ),
    openLookaside(pinned.lookaside, ctx),
  ]);
  return {
    repos: [repo],
    lookaside,
    kojiEvent: pinned.event,
    modules: { streams, defaults: pinned.defaults },
    source: pinned.streams.map((s) => s.nsvc).join(" "),
  };
}

/** The `module` source over a resolver (MBS or modular Koji tags). */
export function createModuleSource(resolveModules: ModuleResolver): Source<ModulePinned> {
  return {
    resolve: (compose, ctx) => resolveModule(resolveModules, compose, ctx),
    open: openModule,
  };
}

/** Resolution as configured: MBS, or Koji alone with `modular_koji_tags` (`resolve.ts`). */
const resolveConfigured: ModuleResolver = (compose, ctx, event) => {
  const request = { ...moduleRequestOf(compose), kojiEvent: event };
  return resolveModules(
    request,
    moduleResolveDeps(request, ctx.config, { signal: ctx.signal, log: ctx.log }),
  );
};

/** `module` composes. */
export const moduleSource = createModuleSource(resolveConfigured);
