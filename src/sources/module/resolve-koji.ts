/**
 * Koji-only resolution (reference/modules.md §3, ODCS's
 * `depsolve_modules`): `N:S` from the modular Koji tags at the pinned event
 * (`listTagged(type="module")` over each tag and its inheritance, a stream
 * masked by an earlier tag, the highest module version, all its contexts);
 * `N:S:V[:C]` by `search` of the build NVR glob; runtime requirements read
 * from each build's `extra.typeinfo.module.modulemd_str`, resolved the
 * same way unless no_deps.
 *
 * Deviations, towards refusing: ODCS drops an id (or a requirement) that
 * the tags do not have without a word; here it fails the compose naming
 * it. Two versions of one `N:S` fail as with MBS ("… conflicts with …").
 */

import { ComposeError } from "../errors.ts";
import type { KojiClient } from "../koji/client.ts";
import { archModulemdOf } from "./arch-modulemd.ts";
import { compareVersions, nsvcOf } from "./ids.ts";
import {
  getModuleBuilds,
  inheritedTagNames,
  listTaggedModules,
  type ModuleBuildInfo,
  searchBuilds,
  type TaggedModuleBuild,
} from "./koji-modules.ts";
import { parseModulemd } from "./modulemd.ts";
import type { ModuleRequest, ModuleResolveDeps, ResolvedModule } from "./types.ts";

interface Candidate {
  nsvc: string;
  name: string;
  stream: string;
  version: string;
  context: string;
  build: ModuleBuildInfo;
  modulemd: string;
  kojiTag: string;
  /** Runtime requirements as `N:S` (base modules left out). */
  requires: string[];
}

const COMPLETE = 1;

/** `release` = `<module version>.<context>`. */
const splitRelease = (release: string) => {
  const dot = release.indexOf(".");
  return dot < 0
    ? { version: release, context: "" }
    : { version: release.slice(0, dot), context: release.slice(dot + 1) };
};

export async function kojiResolve(
  req: ModuleRequest,
  deps: ModuleResolveDeps & { koji: KojiClient },
  baseNames: ReadonlySet<string>,
  event: number,
): Promise<ResolvedModule[]> {
  const hub = deps.koji;
  const log = deps.log ?? (() => {});
  const tags = req.modularKojiTags;
  const where = `the modular Koji tags ${tags.join(" ")} at event ${event}`;
  const inheritance = new Map<string, Promise<string[]>>();
  const chainOf = (tag: string) => {
    let p = inheritance.get(tag);
    if (!p) {
      p = inheritedTagNames(hub, tag, event).then((names) => [tag, ...names]);
      inheritance.set(tag, p);
    }
    return p;
  };
  let eventTs: Promise<number> | undefined;
  const tsOfEvent = () => {
    eventTs ??= hub.call("getEvent", [event]).then((v) => {
      const ts =
        v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)
          ? v.ts
          : undefined;
      if (typeof ts !== "number")
        throw new ComposeError(`the Koji hub answered getEvent(${event}) without a ts`);
      return ts;
    });
    return eventTs;
  };

  const candidatesOf = async (builds: ModuleBuildInfo[]): Promise<Candidate[]> =>
    builds.map((build) => {
      const mod = build.module;
      if (!mod || mod.modulemdStr === "")
        throw new ComposeError(
          `Koji build ${build.nvr} is not a module build (no extra.typeinfo.module.modulemd_str)`,
        );
      const md = parseModulemd(mod.modulemdStr, `the modulemd of Koji build ${build.nvr}`);
      const id = {
        name: md.name || mod.name,
        stream: md.stream || mod.stream,
        version: md.version || mod.version,
        context: md.context || mod.context,
      };
      const requires = new Set<string>();
      for (const r of md.requires)
        for (const [name, streams] of Object.entries(r))
          if (!baseNames.has(name)) for (const s of streams) requires.add(`${name}:${s}`);
      return {
        ...id,
        nsvc: nsvcOf(id),
        build,
        modulemd: mod.modulemdStr,
        kojiTag: mod.contentKojiTag,
        requires: [...requires].sort(),
      };
    });

  /** ODCS `get_module_from_koji_tags`: the newest version of every stream of `name`. */
  const fromTags = new Map<string, Promise<Candidate[]>>();
  const streamsOf = (name: string): Promise<Candidate[]> => {
    let p = fromTags.get(name);
    if (!p) {
      p = (async () => {
        const picked: TaggedModuleBuild[] = [];
        const foundStreams = new Set<string>();
        for (const tag of tags) {
          const [rows, chain] = await Promise.all([
            listTaggedModules(hub, tag, name, event),
            chainOf(tag),
          ]);
          // Per stream, only builds from the first tag of the chain that has it.
          const byStream = new Map<string, TaggedModuleBuild[]>();
          for (const r of rows) byStream.set(r.version, [...(byStream.get(r.version) ?? []), r]);
          const kept: TaggedModuleBuild[] = [];
          for (const builds of byStream.values()) {
            const top = chain.find((t) => builds.some((b) => b.tagName === t));
            kept.push(...builds.filter((b) => b.tagName === top));
          }
          for (const b of kept) if (!foundStreams.has(b.version)) picked.push(b);
          for (const b of kept) foundStreams.add(b.version);
        }
        const newest = new Map<string, TaggedModuleBuild[]>();
        for (const b of picked) {
          const key = `${b.name}:${b.version}`;
          const cur = newest.get(key);
          const c = cur?.[0]
            ? compareVersions(splitRelease(b.release).version, splitRelease(cur[0].release).version)
            : 1;
          if (c > 0) newest.set(key, [b]);
          else if (c === 0 && cur && !cur.some((x) => x.buildId === b.buildId)) cur.push(b);
        }
        const ids = [...newest.values()].flat().map((b) => b.buildId);
        const builds = await getModuleBuilds(hub, ids);
        return candidatesOf(builds.filter((b): b is ModuleBuildInfo => b !== null));
      })();
      fromTags.set(name, p);
    }
    return p;
  };

  /** ODCS `find_exact_module`: builds named `N-S_-V.<C or *>`, complete by the event. */
  const exact = async (id: string): Promise<Candidate[]> => {
    const [name = "", stream = "", version = "", context = "*"] = id.split(":");
    const glob = `${name}-${stream.replace(/-/g, "_")}-${version}.${context}`;
    const ids = await searchBuilds(hub, glob);
    const ts = await tsOfEvent();
    const builds = (await getModuleBuilds(hub, ids)).filter(
      (b): b is ModuleBuildInfo =>
        b !== null && b.state === COMPLETE && (b.completionTs === null || b.completionTs <= ts),
    );
    return candidatesOf(builds);
  };

  const result = new Map<string, Candidate>();
  const byNs = new Map<string, Candidate>();
  const add = (c: Candidate) => {
    if (result.has(c.nsvc)) return;
    const ns = `${c.name}:${c.stream}`;
    const old = byNs.get(ns);
    if (old && old.version !== c.version)
      throw new ComposeError(`${c.nsvc} conflicts with ${old.nsvc}`);
    byNs.set(ns, c);
    result.set(c.nsvc, c);
  };

  const pending: { ns: string; requiredBy: string | null }[] = [];
  for (const id of req.modules) {
    const parts = id.split(":");
    const found =
      parts.length > 2
        ? await exact(id)
        : (await streamsOf(parts[0] ?? "")).filter((c) => c.stream === parts[1]);
    if (found.length === 0) throw new ComposeError(`Failed to find module ${id} in ${where}.`);
    log(`koji: ${id}: ${found.map((c) => c.nsvc).join(" ")}`);
    for (const c of found) add(c);
    if (!req.noDeps)
      for (const c of found)
        for (const r of c.requires) pending.push({ ns: r, requiredBy: c.nsvc });
  }
  const resolved = new Set(byNs.keys());
  while (pending.length > 0) {
    const next = pending.shift();
    if (!next || resolved.has(next.ns)) continue;
    resolved.add(next.ns);
    const [name = "", stream = ""] = next.ns.split(":");
    const found = (await streamsOf(name)).filter((c) => c.stream === stream);
    if (found.length === 0)
      throw new ComposeError(
        `Failed to find module ${next.ns} (required by ${next.requiredBy}) in ${where}.`,
      );
    log(`koji: ${next.requiredBy} requires ${next.ns}: ${found.map((c) => c.nsvc).join(" ")}`);
    for (const c of found) {
      add(c);
      for (const r of c.requires) pending.push({ ns: r, requiredBy: c.nsvc });
    }
  }

  const opts = {
    signal: deps.signal ?? new AbortController().signal,
    timeoutMs: deps.timeoutMs ?? 120_000,
  };
  return Promise.all(
    [...result.values()].map(async (c) => {
      const archModulemd = await archModulemdOf(hub, deps.kojiTop, c.build, opts);
      const rpms = new Set(parseModulemd(c.modulemd, `the modulemd of ${c.nsvc}`).rpms);
      for (const [arch, doc] of Object.entries(archModulemd))
        for (const r of parseModulemd(doc, `modulemd.${arch}.txt of ${c.nsvc}`).rpms) rpms.add(r);
      return {
        name: c.name,
        stream: c.stream,
        version: c.version,
        context: c.context,
        nsvc: c.nsvc,
        kojiTag: c.kojiTag,
        modulemd: c.modulemd,
        archModulemd,
        rpms: [...rpms].sort(),
        kojiBuildId: c.build.id,
        develOf: null,
      };
    }),
  );
}
