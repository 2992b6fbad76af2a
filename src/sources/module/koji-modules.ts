/**
 * The Koji calls of module resolution (reference/modules.md §3, koji.md §4)
 * that `koji/hub.ts` does not have: module builds tagged in a tag (with
 * inheritance), `search` by NVR glob, a build with its `extra`, its
 * `module` archives and their files. Answers are checked and typed.
 */

import { ComposeError } from "../errors.ts";
import { fetchStream, readLocalBounded } from "../fetch.ts";
import { type KojiClient, KojiFault } from "../koji/client.ts";
import { type KojiTop, topHref } from "../koji/files.ts";
import { volumePrefix } from "../koji/paths.ts";
import type { XmlRpcStruct, XmlRpcValue } from "../koji/xmlrpc.ts";

/** A modulemd file is small; anything past this is refused. */
export const MAX_MODULEMD_BYTES = 16 * 1024 * 1024;

export interface TaggedModuleBuild {
  buildId: number;
  /** Module name. */
  name: string;
  /** Stream with `-` as `_`. */
  version: string;
  /** `<module version>.<context>`. */
  release: string;
  tagName: string;
}

export interface ModuleBuildInfo {
  id: number;
  name: string;
  version: string;
  release: string;
  nvr: string;
  /** 0 BUILDING, 1 COMPLETE, 2 DELETED, 3 FAILED, 4 CANCELED. */
  state: number;
  completionTs: number | null;
  volumeName: string | null;
  /** `extra.typeinfo.module`, or null when the build is not a module build. */
  module: {
    name: string;
    stream: string;
    version: string;
    context: string;
    contentKojiTag: string;
    modulemdStr: string;
  } | null;
}

function bad(method: string, what: string): never {
  throw new ComposeError(`the Koji hub answered ${method} with ${what}`);
}

const isStruct = (v: XmlRpcValue | undefined): v is XmlRpcStruct =>
  v !== null &&
  v !== undefined &&
  typeof v === "object" &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array);

function list(method: string, v: XmlRpcValue): XmlRpcValue[] {
  if (!Array.isArray(v)) bad(method, "something other than a list");
  return v;
}

function struct(method: string, v: XmlRpcValue | undefined): XmlRpcStruct {
  if (!isStruct(v)) bad(method, "something other than a struct");
  return v;
}

function int(method: string, s: XmlRpcStruct, k: string): number {
  const v = s[k];
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    bad(method, `a row whose ${k} is not an integer`);
  return v;
}

function str(method: string, s: XmlRpcStruct, k: string): string {
  const v = s[k];
  if (typeof v !== "string") bad(method, `a row whose ${k} is not a string`);
  return v;
}

const text = (v: XmlRpcValue | undefined): string =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : "";

/** `listTagged(tag, event, inherit=True, package=name, type="module")`. */
export async function listTaggedModules(
  hub: KojiClient,
  tag: string,
  name: string,
  event: number,
): Promise<TaggedModuleBuild[]> {
  const m = "listTagged";
  const rows = list(
    m,
    await hub.call(m, [tag], { event, inherit: true, package: name, type: "module" }),
  );
  return rows.map((r) => {
    const s = struct(m, r);
    return {
      buildId: int(m, s, "build_id"),
      name: str(m, s, "name"),
      version: str(m, s, "version"),
      release: str(m, s, "release"),
      tagName: str(m, s, "tag_name"),
    };
  });
}

/** Names of the tags `tag` inherits from at `event`, in search order. */
export async function inheritedTagNames(
  hub: KojiClient,
  tag: string,
  event: number,
): Promise<string[]> {
  const m = "getFullInheritance";
  return list(m, await hub.call(m, [tag], { event })).map((l) => str(m, struct(m, l), "name"));
}

/** `search(glob, "build", "glob")`: ids of the builds whose NVR matches. */
export async function searchBuilds(hub: KojiClient, glob: string): Promise<number[]> {
  const m = "search";
  return list(m, await hub.call(m, [glob, "build", "glob"])).map((r) => int(m, struct(m, r), "id"));
}

function parseModuleExtra(extra: XmlRpcValue | undefined): ModuleBuildInfo["module"] {
  if (!isStruct(extra)) return null;
  const typeinfo = extra.typeinfo;
  if (!isStruct(typeinfo)) return null;
  const mod = typeinfo.module;
  if (!isStruct(mod)) return null;
  return {
    name: text(mod.name),
    stream: text(mod.stream),
    version: text(mod.version),
    context: text(mod.context),
    contentKojiTag: text(mod.content_koji_tag),
    modulemdStr: text(mod.modulemd_str),
  };
}

/** `getBuild(id or NVR)` for each (one multicall); `null` for a build the hub does not have. */
export async function getModuleBuilds(
  hub: KojiClient,
  infos: readonly (number | string)[],
): Promise<(ModuleBuildInfo | null)[]> {
  if (infos.length === 0) return [];
  const m = "getBuild";
  const results = await hub.multiCall(infos.map((i) => ({ method: m, args: [i] })));
  return results.map((r, i) => {
    if (r instanceof KojiFault) {
      if (r.faultCode === 1000 && /invalid format|No such build/.test(r.faultString)) return null;
      throw new KojiFault(`getBuild(${infos[i]})`, r);
    }
    if (r === null) return null;
    const s = struct(m, r);
    const ts = s.completion_ts;
    const vol = s.volume_name;
    return {
      id: int(m, s, "id"),
      name: str(m, s, "package_name"),
      version: str(m, s, "version"),
      release: str(m, s, "release"),
      nvr: str(m, s, "nvr"),
      state: int(m, s, "state"),
      completionTs: typeof ts === "number" ? ts : null,
      volumeName: typeof vol === "string" ? vol : null,
      module: parseModuleExtra(s.extra),
    };
  });
}

/** File names of the build's `module` archives (`modulemd.txt`, `modulemd.<arch>.txt`). */
export async function listModuleArchives(hub: KojiClient, buildId: number): Promise<string[]> {
  const m = "listArchives";
  const rows = list(m, await hub.call(m, [], { buildID: buildId, type: "module" }));
  return rows.map((r) => str(m, struct(m, r), "filename"));
}

/** Path of a build's typed file under the top dir: `<build dir>/files/module/<file>`. */
export function moduleFileRelPath(b: ModuleBuildInfo, filename: string): string {
  const part = (s: string, what: string) => {
    if (s === "" || s === "." || s === ".." || s.includes("/") || s.includes("\0"))
      throw new ComposeError(
        `the Koji hub gave a ${what} that cannot be part of a path: ${JSON.stringify(s)}`,
      );
    return s;
  };
  return `${volumePrefix(b.volumeName)}packages/${part(b.name, "package name")}/${part(b.version, "version")}/${part(b.release, "release")}/files/module/${part(filename, "archive file name")}`;
}

/** A module archive file's text (bounded). */
export async function readModuleFile(
  top: KojiTop,
  rel: string,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<string> {
  const href = topHref(top, rel);
  if (top.kind === "dir") {
    try {
      return new TextDecoder().decode(await readLocalBounded(href, MAX_MODULEMD_BYTES));
    } catch (err) {
      if (err instanceof ComposeError) throw err;
      throw new ComposeError(`cannot read ${href}: ${(err as Error).message}`, { cause: err });
    }
  }
  const parts: Uint8Array[] = [];
  for await (const c of await fetchStream(href, opts.signal, opts.timeoutMs, MAX_MODULEMD_BYTES))
    parts.push(c);
  return Buffer.concat(parts).toString("utf8");
}
