/**
 * The hub calls a compose needs, each answer checked and typed
 * (reference/koji.md §4). Rows keep only the fields the sources use.
 */

import { ComposeError } from "../errors.ts";
import { type KojiClient, KojiFault } from "./client.ts";
import type { XmlRpcStruct, XmlRpcValue } from "./xmlrpc.ts";

export interface KojiTag {
  id: number;
  name: string;
}

export interface KojiBuild {
  id: number;
  /** The package (build) name, which names the build dir. */
  name: string;
  version: string;
  release: string;
  nvr: string;
  /** 0 BUILDING, 1 COMPLETE, 2 DELETED, 3 FAILED, 4 CANCELED. */
  state: number;
  /** `null` or `"DEFAULT"` for the default volume. */
  volumeName: string | null;
}

export const BUILD_STATES = ["BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"] as const;

export interface KojiRpm {
  id: number;
  buildId: number;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  /** Hex MD5 over header + payload (the RPM's SIGMD5); the same for every signed copy. */
  payloadhash: string;
  size: number;
}

export interface KojiSig {
  rpmId: number;
  sigkey: string;
  /** Hex MD5 of the signature header. */
  sighash: string;
}

/** The hub's answer to `method` is not the shape Koji gives: a compose error naming both. */
export function bad(method: string, what: string): never {
  throw new ComposeError(`the Koji hub answered ${method} with ${what}`);
}

/** Whether an XML-RPC value is a struct (not an array, bytes or nil). */
export const isStruct = (v: XmlRpcValue | undefined): v is XmlRpcStruct =>
  v !== null &&
  v !== undefined &&
  typeof v === "object" &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array);

export function struct(method: string, v: XmlRpcValue | undefined): XmlRpcStruct {
  if (!isStruct(v)) bad(method, "something other than a struct");
  return v;
}

export function list(method: string, v: XmlRpcValue): XmlRpcValue[] {
  if (!Array.isArray(v)) bad(method, "something other than a list");
  return v;
}

export function int(method: string, s: XmlRpcStruct, k: string): number {
  const v = s[k];
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    bad(method, `a row whose ${k} is not an integer`);
  return v;
}

export function str(method: string, s: XmlRpcStruct, k: string): string {
  const v = s[k];
  if (typeof v !== "string") bad(method, `a row whose ${k} is not a string`);
  return v;
}

function optStr(method: string, s: XmlRpcStruct, k: string): string | null {
  const v = s[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") bad(method, `a row whose ${k} is not a string`);
  return v;
}

function optInt(method: string, s: XmlRpcStruct, k: string): number | null {
  const v = s[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    bad(method, `a row whose ${k} is not an integer`);
  return v;
}

export function parseBuild(method: string, v: XmlRpcValue): KojiBuild {
  const s = struct(method, v);
  return {
    id: int(method, s, "id"),
    name: str(method, s, "package_name"),
    version: str(method, s, "version"),
    release: str(method, s, "release"),
    nvr: str(method, s, "nvr"),
    state: int(method, s, "state"),
    volumeName: optStr(method, s, "volume_name"),
  };
}

function parseRpm(method: string, v: XmlRpcValue): KojiRpm {
  const s = struct(method, v);
  return {
    id: int(method, s, "id"),
    buildId: int(method, s, "build_id"),
    name: str(method, s, "name"),
    version: str(method, s, "version"),
    release: str(method, s, "release"),
    epoch: optInt(method, s, "epoch"),
    arch: str(method, s, "arch"),
    payloadhash: str(method, s, "payloadhash"),
    size: int(method, s, "size"),
  };
}

/** The hub's latest event id. */
export async function getLastEvent(hub: KojiClient): Promise<number> {
  return int("getLastEvent", struct("getLastEvent", await hub.call("getLastEvent")), "id");
}

/** The tag as it was at `event`; `null` when it did not exist then (or at all). */
export async function getTag(
  hub: KojiClient,
  name: string,
  event: number,
): Promise<KojiTag | null> {
  const v = await hub.call("getTag", [name], { event });
  if (v === null) return null;
  const s = struct("getTag", v);
  return { id: int("getTag", s, "id"), name: str("getTag", s, "name") };
}

/** Ids of every tag `tagId` inherits from at `event`, in search order. */
export async function inheritedTagIds(
  hub: KojiClient,
  tagId: number,
  event: number,
): Promise<number[]> {
  const links = list(
    "getFullInheritance",
    await hub.call("getFullInheritance", [tagId], { event }),
  );
  return links.map((l) => int("getFullInheritance", struct("getFullInheritance", l), "parent_id"));
}

/**
 * `listTaggedRPMS(tag, event, inherit, latest=True, arch)`: the RPMs and
 * their builds. (Signatures are asked for later, for the selected RPMs only:
 * `queryRpmSigs`.)
 */
export async function listTaggedRpms(
  hub: KojiClient,
  tag: string,
  opts: { event: number; inherit: boolean; arches: string[] },
): Promise<{ rpms: KojiRpm[]; builds: KojiBuild[] }> {
  const m = "listTaggedRPMS";
  const v = list(
    m,
    await hub.call(m, [tag], {
      event: opts.event,
      inherit: opts.inherit,
      latest: true,
      arch: opts.arches,
    }),
  );
  // An unknown tag with strict=False is `[]` rather than `[[], []]` (observed).
  if (v.length === 0) return { rpms: [], builds: [] };
  if (v.length !== 2) bad(m, "a list that is not [rpms, builds]");
  const rows = list(m, v[0] ?? null);
  const builds = list(m, v[1] ?? null).map((b) => parseBuild(m, b));
  return { rpms: rows.map((r) => parseRpm(m, r)), builds };
}

/** `getBuild(nvr)` for each NVR (one multicall): the build, or `null` when the hub does not know it. */
export async function getBuilds(
  hub: KojiClient,
  nvrs: readonly string[],
): Promise<(KojiBuild | null)[]> {
  const results = await hub.multiCall(nvrs.map((nvr) => ({ method: "getBuild", args: [nvr] })));
  return results.map((r, i) => {
    if (r instanceof KojiFault) {
      // "invalid format" (not N-V-R shaped) and "No such build" both mean: not a build the hub has.
      if (r.faultCode === 1000 && /invalid format|No such build/.test(r.faultString)) return null;
      throw new KojiFault(`getBuild(${nvrs[i]})`, r);
    }
    return r === null ? null : parseBuild("getBuild", r);
  });
}

/** `listBuildRPMs(id)` for each build (one multicall), restricted to `arches`. */
export async function listBuildRpms(
  hub: KojiClient,
  buildIds: readonly number[],
  arches: readonly string[],
): Promise<KojiRpm[][]> {
  const results = await hub.multiCall(
    buildIds.map((id) => ({ method: "listBuildRPMs", args: [id] })),
  );
  const wanted = new Set(arches);
  return results.map((r) => {
    if (r instanceof KojiFault) throw r;
    return list("listBuildRPMs", r)
      .map((x) => parseRpm("listBuildRPMs", x))
      .filter((x) => wanted.has(x.arch));
  });
}

/** `queryRPMSigs(rpm_id)` for each RPM (one multicall), sigkeys lower-cased. */
export async function queryRpmSigs(
  hub: KojiClient,
  rpmIds: readonly number[],
): Promise<KojiSig[][]> {
  const m = "queryRPMSigs";
  const results = await hub.multiCall(rpmIds.map((id) => ({ method: m, kwargs: { rpm_id: id } })));
  return results.map((r) => {
    if (r instanceof KojiFault) throw r;
    return list(m, r).map((x) => {
      const s = struct(m, x);
      return {
        rpmId: int(m, s, "rpm_id"),
        sigkey: str(m, s, "sigkey").toLowerCase(),
        sighash: str(m, s, "sighash"),
      };
    });
  });
}

/** Whether any of `tagIds` changed after `event` (ids only: names are a database error on the hub). */
export async function tagChangedSinceEvent(
  hub: KojiClient,
  event: number,
  tagIds: readonly number[],
): Promise<boolean> {
  if (tagIds.length === 0) return false;
  const v = await hub.call("tagChangedSinceEvent", [event, [...tagIds]]);
  if (typeof v !== "boolean") bad("tagChangedSinceEvent", "something other than a boolean");
  return v;
}
