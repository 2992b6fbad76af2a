/**
 * A Koji package set (the RPMs of a tag at an event, or of listed builds)
 * as an `OpenedRepo`: one `PackageRecord` per RPM, built from the header of
 * the RPM as imported, so the select/depsolve pipeline of repo composes
 * runs unchanged (every signed copy has the same main header, so which copy
 * is taken cannot change the closure).
 *
 * Once the pipeline has selected, `chooseCopies` picks each selected RPM's
 * file: the copy signed with the most preferred key that the hub has a
 * signature for and whose signed copy exists, `""` (the file as imported)
 * only when allowed and after every key — Pungi's rule (koji.md §6). The
 * signatures are asked for then, for the selected RPMs only: they carry no
 * event, so a cached listing must not decide them.
 */

import { realpathSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { type RpmHeader, tryParseRpmHeader } from "../../rpm/header.ts";
import { headerToRecord } from "../../rpm/header-record.ts";
import type { Repodata } from "../../rpm/repodata-read.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { ComposeError, isDiskFull } from "../errors.ts";
import { limiter, mapLimit } from "../limit.ts";
import { batchedPlacer } from "../place/batched-placer.ts";
import type { OpenedRepo } from "../types.ts";
import type { KojiClient } from "./client.ts";
import {
  digestFile,
  downloadFile,
  type HeaderBytes,
  headerFromBytes,
  type KojiTop,
  linkFile,
  MissingKojiFileError,
  type RpmDigests,
  readKojiHeader,
  type TransferStats,
  topHref,
} from "./files.ts";
import type { KojiHeaderCache } from "./header-cache.ts";
import { type KojiBuild, type KojiRpm, queryRpmSigs } from "./hub.ts";
import { rpmRelPath } from "./paths.ts";

/** Header reads in flight at once. */
export const HEADER_READ_CONCURRENCY = 32;
/** Whole-file downloads in flight at once. */
export const DOWNLOAD_CONCURRENCY = 16;

/** What the memory part of the header cache holds per copy. */
export interface CachedHeader {
  record: PackageRecord;
}

export interface KojiFilesContext {
  hub: KojiClient;
  top: KojiTop;
  cache: KojiHeaderCache<CachedHeader>;
  stats: TransferStats;
  signal: AbortSignal;
  timeoutMs: number;
}

export interface KojiPackageSetInput {
  /** For logs, reasons and compose_rpms.source_repo. */
  origin: string;
  rpms: readonly KojiRpm[];
  builds: ReadonlyMap<number, KojiBuild>;
  /** The keys to try, best first; `""` = the file as imported (last, when allowed). */
  keys: readonly string[];
  /** Regeneration: the sigkey each NEVRA had (`null` = the file as imported). */
  pinnedKeys?: ReadonlyMap<string, string | null>;
}

interface Copy {
  rpm: KojiRpm;
  build: KojiBuild;
  key: string;
  rel: string;
}

export const nevraOfRpm = (r: {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}) => `${r.name}-${r.epoch ?? 0}:${r.version}-${r.release}.${r.arch}`;

const nvraOf = (r: KojiRpm) => `${r.name}-${r.version}-${r.release}.${r.arch}`;

function matches(h: RpmHeader, r: KojiRpm): boolean {
  const arch = h.isSource ? "src" : h.arch;
  return (
    h.name === r.name &&
    h.version === r.version &&
    h.release === r.release &&
    arch === r.arch &&
    (h.epoch ?? null) === r.epoch
  );
}

function recordOf(h: RpmHeader, rpm: KojiRpm, key: string, rel: string): PackageRecord {
  const record = headerToRecord(h, {
    pkgid: "",
    checksumType: "sha256",
    sizePackage: rpm.size,
    location: rel,
  });
  // The key of the file chosen, as Pungi records it: null for the file as imported.
  record.sigkey = key === "" ? null : key;
  return record;
}

/**
 * The record of one copy: from memory, the disk cache, or the file's first
 * bytes (then stored). A signed copy must carry that key's signature; every
 * copy must be the RPM the hub describes.
 */
async function recordOfCopy(
  rpm: KojiRpm,
  build: KojiBuild,
  key: string,
  ctx: KojiFilesContext,
): Promise<{ record: PackageRecord; rel: string }> {
  const rel = rpmRelPath(build, rpm, key);
  const known = ctx.cache.remembered(rpm.id, key);
  if (known) return { record: known.record, rel };
  let hb: HeaderBytes | undefined;
  const stored = await ctx.cache.readHeader(rpm.id, key);
  if (stored) {
    const r = tryParseRpmHeader(stored);
    if (r.ok && matches(r.header, rpm)) hb = headerFromBytes(stored);
  }
  if (!hb) {
    const href = topHref(ctx.top, rel);
    try {
      hb = await readKojiHeader(ctx.top, rel, {
        stats: ctx.stats,
        signal: ctx.signal,
        timeoutMs: ctx.timeoutMs,
      });
    } catch (err) {
      if (err instanceof MissingKojiFileError || err instanceof ComposeError || ctx.signal.aborted)
        throw err;
      throw new ComposeError(`cannot read the header of ${href}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!matches(hb.header, rpm))
      throw new ComposeError(
        `${href} is ${hb.header.name}-${hb.header.version}-${hb.header.release}.${hb.header.arch}, but the Koji hub says RPM ${rpm.id} is ${nvraOf(rpm)}`,
      );
    if (key !== "" && hb.header.sigkey !== key)
      throw new ComposeError(
        `the signed copy ${href} is signed with ${hb.header.sigkey ?? "no key"}, not ${key}`,
      );
    await ctx.cache.writeHeader(rpm.id, key, hb.bytes);
  }
  const record = recordOf(hb.header, rpm, key, rel);
  const facts = await ctx.cache.readFacts(rpm.id, key);
  if (facts) {
    record.pkgid = facts.sha256;
    record.sizePackage = facts.size;
  }
  ctx.cache.remember(rpm.id, key, { record });
  return { record, rel };
}

const missing = (rpm: KojiRpm, err: unknown) =>
  err instanceof MissingKojiFileError
    ? new ComposeError(`the Koji top dir has no file for RPM ${nvraOf(rpm)}: ${err.message}`, {
        retryable: true,
      })
    : err;

const realRoots = new Map<string, string>();
/** A real path for the placer's root check (made first: the cache dir may not exist yet). */
async function realRoot(dir: string): Promise<string> {
  let real = realRoots.get(dir);
  if (real === undefined) {
    await mkdir(dir, { recursive: true });
    real = realpathSync.native(dir);
    realRoots.set(dir, real);
  }
  return real;
}

/**
 * Read (or find cached) the header of each RPM as imported and return the
 * package set as an `OpenedRepo`.
 */
/**
 * Opened package sets per listing (a tag at an event): the same `Repodata`
 * object for every compose of it, so the solver's indexes and rule caches,
 * kept beside that object, serve them all.
 */
const openedSets = new WeakMap<
  object,
  { repodata: Repodata; copies: Map<PackageRecord, Copy>; cache: object }
>();

export async function openKojiPackageSet(
  input: KojiPackageSetInput,
  ctx: KojiFilesContext,
  /** Identity of the RPM list (a cached tag listing): the set opened for it before is reused. */
  listKey?: object,
): Promise<OpenedRepo & { copies: number }> {
  const known = listKey ? openedSets.get(listKey) : undefined;
  let repodata: Repodata;
  let copies: Map<PackageRecord, Copy>;
  if (known && known.cache === ctx.cache) {
    ({ repodata, copies } = known);
  } else {
    copies = new Map<PackageRecord, Copy>();
    const found = copies;
    const records = await mapLimit(input.rpms, HEADER_READ_CONCURRENCY, async (rpm) => {
      ctx.signal.throwIfAborted();
      const build = input.builds.get(rpm.buildId);
      if (!build)
        throw new ComposeError(
          `the Koji hub listed RPM ${nvraOf(rpm)} without its build ${rpm.buildId}`,
        );
      try {
        const { record, rel } = await recordOfCopy(rpm, build, "", ctx);
        found.set(record, { rpm, build, key: "", rel });
        return record;
      } catch (err) {
        throw missing(rpm, err);
      }
    });
    records.sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0,
    );
    repodata = { repomdChecksum: "", revision: "", packages: records };
    if (listKey) openedSets.set(listKey, { repodata, copies, cache: ctx.cache });
  }
  const sighashes = new Map<number, Map<string, string>>();
  const download = limiter(DOWNLOAD_CONCURRENCY);
  const roots = [await realRoot(ctx.cache.dir)];
  if (ctx.top.kind === "dir") roots.push(await realRoot(ctx.top.dir));
  const link = batchedPlacer(roots);

  const copyOf = (pkg: PackageRecord): Copy => {
    const c = copies.get(pkg);
    if (!c) throw new Error(`${pkg.location} is not a record of ${input.origin}`);
    return c;
  };

  async function fetchSigs(rpms: readonly KojiRpm[]): Promise<void> {
    const todo = rpms.filter((r) => !sighashes.has(r.id));
    if (todo.length === 0) return;
    const sigs = await queryRpmSigs(
      ctx.hub,
      todo.map((r) => r.id),
    );
    for (const [i, r] of todo.entries())
      sighashes.set(r.id, new Map((sigs[i] ?? []).map((s) => [s.sigkey, s.sighash])));
  }

  /** Signature hashes of the files placed in one tick, asked for in one multicall. */
  let pendingSigs: { rpms: KojiRpm[]; done: Promise<void> } | null = null;
  function sigsOf(rpm: KojiRpm): Promise<void> {
    if (sighashes.has(rpm.id)) return Promise.resolve();
    if (!pendingSigs) {
      const rpms: KojiRpm[] = [];
      pendingSigs = {
        rpms,
        done: Promise.resolve().then(() => {
          pendingSigs = null;
          return fetchSigs(rpms);
        }),
      };
    }
    pendingSigs.rpms.push(rpm);
    return pendingSigs.done;
  }

  async function verify(pkg: PackageRecord, c: Copy, d: RpmDigests, where: string): Promise<void> {
    const retryable = ctx.top.kind === "url";
    if (d.payloadhash !== c.rpm.payloadhash)
      throw new ComposeError(
        `${where} has payload MD5 ${d.payloadhash}, but the Koji hub says ${c.rpm.payloadhash}`,
        { retryable },
      );
    await sigsOf(c.rpm);
    // The file as imported carries whatever header it was imported with; its row is that key's (or "").
    const recorded = sighashes.get(c.rpm.id)?.get(c.key === "" ? "" : c.key);
    if (c.key !== "" && recorded === undefined)
      throw new ComposeError(
        `the Koji hub has no signature ${c.key} for ${nvraOf(c.rpm)} any more`,
      );
    if (recorded !== undefined && recorded !== d.sighash)
      throw new ComposeError(
        `${where} has a signature header with MD5 ${d.sighash}, but the Koji hub recorded ${recorded} for key "${c.key}"`,
        { retryable },
      );
    pkg.pkgid = d.sha256;
    pkg.sizePackage = d.size;
    await ctx.cache.writeFacts(c.rpm.id, c.key, { size: d.size, sha256: d.sha256 });
  }

  async function chooseCopy(
    pkg: PackageRecord,
  ): Promise<{ chosen: PackageRecord } | { problem: string }> {
    const c = copyOf(pkg);
    const pinned = input.pinnedKeys?.get(nevraOfRpm(c.rpm));
    const recorded = sighashes.get(c.rpm.id);
    const candidates =
      pinned !== undefined
        ? [pinned ?? ""]
        : input.keys.filter((k) => k === "" || recorded?.has(k));
    for (const key of candidates) {
      if (key === "") return { chosen: pkg };
      try {
        const { record, rel } = await recordOfCopy(c.rpm, c.build, key, ctx);
        copies.set(record, { ...c, key, rel });
        return { chosen: record };
      } catch (err) {
        // A recorded signature does not mean its signed copy was written (koji.md §6).
        if (!(err instanceof MissingKojiFileError)) throw err;
      }
    }
    const tried = candidates.filter((k) => k !== "");
    const keys = input.keys.filter((k) => k !== "");
    return {
      problem: `${nvraOf(c.rpm)} (${keys.length === 0 ? "no keys" : `keys ${keys.join(", ")}`}: ${
        tried.length === 0 ? "no signature recorded" : `no signed copy for ${tried.join(", ")}`
      })`,
    };
  }

  return {
    origin: input.origin,
    repodata,
    copies: repodata.packages.length,
    async chooseCopies(selected) {
      // Choosing among keys needs every selected RPM's signatures; verifying a file read for
      // the first time needs its own. One multicall (in batches) for all of them.
      const needsSigs = input.pinnedKeys !== undefined || input.keys.some((k) => k !== "");
      await fetchSigs(
        selected.filter((p) => needsSigs || p.pkgid === "").map((p) => copyOf(p).rpm),
      );
      const chosen = new Map<PackageRecord, PackageRecord>();
      const problems: string[] = [];
      await mapLimit(selected, HEADER_READ_CONCURRENCY, async (pkg) => {
        const r = await chooseCopy(pkg);
        if ("chosen" in r) chosen.set(pkg, r.chosen);
        else problems.push(r.problem);
      });
      return { chosen, problems: problems.sort() };
    },
    async readHeader(pkg) {
      const c = copyOf(pkg);
      const stored = await ctx.cache.readHeader(c.rpm.id, c.key);
      if (stored) return headerFromBytes(stored).header;
      return (
        await readKojiHeader(ctx.top, c.rel, {
          stats: ctx.stats,
          signal: ctx.signal,
          timeoutMs: ctx.timeoutMs,
        })
      ).header;
    },
    async materialise(pkg, dest) {
      const c = copyOf(pkg);
      const href = topHref(ctx.top, c.rel);
      // From a mounted top dir, or from the download cache: a hardlink.
      const src = ctx.top.kind === "dir" ? href : ctx.cache.rpmPath(c.rpm.id, c.key);
      const placed = await link({ src, dest });
      if (placed.ok) {
        ctx.stats.links++;
        // Checked once: the digests of a Koji file never change.
        if (pkg.pkgid === "") await verify(pkg, c, await digestFile(dest, pkg.headerStart), src);
        return placed.how;
      }
      if (placed.outside || !/ENOENT/.test(placed.message))
        throw new ComposeError(`cannot link ${src} into the compose: ${placed.message}`);
      if (ctx.top.kind === "dir")
        throw new ComposeError(`the Koji top dir has no file ${href}`, { retryable: true });
      return download(async () => {
        const tmp = `${src}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        const fetchTo = async (path: string) => {
          try {
            return await downloadFile(href, path, pkg.headerStart, {
              signal: ctx.signal,
              timeoutMs: ctx.timeoutMs,
            });
          } catch (err) {
            if (err instanceof MissingKojiFileError)
              throw new ComposeError(`the Koji top dir has no file ${href} any more`, {
                retryable: true,
              });
            throw err;
          }
        };
        let d: RpmDigests;
        try {
          d = await fetchTo(tmp);
        } catch (err) {
          if (!isDiskFull(err)) throw err;
          // The download cache's disk is full: this compose goes on without
          // it, the file downloaded straight into the compose (not kept).
          d = await fetchTo(dest);
          ctx.stats.downloads++;
          ctx.stats.downloadBytes += d.size;
          try {
            await verify(pkg, c, d, href);
          } catch (e) {
            await rm(dest, { force: true });
            throw e;
          }
          return "download" as const;
        }
        ctx.stats.downloads++;
        ctx.stats.downloadBytes += d.size;
        try {
          await verify(pkg, c, d, href);
          await rename(tmp, src);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        await linkFile(src, dest);
        return "download" as const;
      });
    },
  };
}
