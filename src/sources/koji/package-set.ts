/**
 * A Koji package set (the RPMs of a tag at an event, or of listed builds)
 * as an `OpenedRepo`: one `PackageRecord` per RPM, built from the RPM's
 * header, so the select/depsolve pipeline of repo composes runs unchanged.
 *
 * Which file of an RPM: the copy signed with the most preferred key that
 * the hub recorded a signature for and whose signed copy exists, `""` (the
 * file as imported) only when allowed and after every key — Pungi's rule
 * (koji.md §6). An RPM without such a copy keeps a record (read from the
 * file as imported) so depsolving sees it, and the compose fails only if it
 * takes it (`noAcceptableCopy`), as repo composes do.
 */

import { rename, rm } from "node:fs/promises";
import { type RpmHeader, tryParseRpmHeader } from "../../rpm/header.ts";
import { headerToRecord } from "../../rpm/header-record.ts";
import type { Repodata } from "../../rpm/repodata-read.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { ComposeError } from "../../worker/errors.ts";
import { limiter, mapLimit } from "../../worker/pipeline/map-limit.ts";
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
  /** Signature hashes already known (`build` sources ask queryRPMSigs up front). */
  sighashes?: ReadonlyMap<number, ReadonlyMap<string, string>>;
}

interface Copy {
  rpm: KojiRpm;
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
 * The header of one copy: from memory, the disk cache, or the file (then
 * stored). A signed copy must carry that key's signature; every copy must
 * be the RPM the hub describes.
 */
async function headerOf(
  rpm: KojiRpm,
  build: KojiBuild,
  key: string,
  ctx: KojiFilesContext,
): Promise<CachedHeader & { rel: string }> {
  const rel = rpmRelPath(build, rpm, key);
  const known = ctx.cache.remembered(rpm.id, key);
  if (known) return { ...known, rel };
  let hb: HeaderBytes | undefined;
  const stored = await ctx.cache.readHeader(rpm.id, key);
  if (stored) {
    const r = tryParseRpmHeader(stored);
    if (r.ok && matches(r.header, rpm)) hb = headerFromBytes(stored);
  }
  if (!hb) {
    try {
      hb = await readKojiHeader(ctx.top, rel, {
        stats: ctx.stats,
        signal: ctx.signal,
        timeoutMs: ctx.timeoutMs,
      });
    } catch (err) {
      if (err instanceof MissingKojiFileError || err instanceof ComposeError || ctx.signal.aborted)
        throw err;
      throw new ComposeError(
        `cannot read the header of ${topHref(ctx.top, rel)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!matches(hb.header, rpm))
      throw new ComposeError(
        `${topHref(ctx.top, rel)} is ${hb.header.name}-${hb.header.version}-${hb.header.release}.${hb.header.arch}, but the Koji hub says RPM ${rpm.id} is ${nvraOf(rpm)}`,
      );
    if (key !== "" && hb.header.sigkey !== key)
      throw new ComposeError(
        `the signed copy ${topHref(ctx.top, rel)} is signed with ${hb.header.sigkey ?? "no key"}, not ${key}`,
      );
    await ctx.cache.writeHeader(rpm.id, key, hb.bytes);
  }
  const entry: CachedHeader = { record: recordOf(hb.header, rpm, key, rel) };
  const facts = await ctx.cache.readFacts(rpm.id, key);
  if (facts) {
    entry.record.pkgid = facts.sha256;
    entry.record.sizePackage = facts.size;
  }
  ctx.cache.remember(rpm.id, key, entry);
  return { ...entry, rel };
}

/** Batches the sighash look-ups of the files placed in one tick into one multicall. */
function sighashBatcher(
  ctx: KojiFilesContext,
  known?: ReadonlyMap<number, ReadonlyMap<string, string>>,
) {
  let batch: Map<number, ((m: ReadonlyMap<string, string>) => void)[]> | null = null;
  let failed: ((err: unknown) => void)[] = [];
  const flush = async () => {
    const b = batch ?? new Map();
    const fails = failed;
    batch = null;
    failed = [];
    try {
      const ids = [...b.keys()];
      const sigs = await queryRpmSigs(ctx.hub, ids);
      ids.forEach((id, i) => {
        const m = new Map((sigs[i] ?? []).map((s) => [s.sigkey, s.sighash]));
        for (const settle of b.get(id) ?? []) settle(m);
      });
    } catch (err) {
      for (const f of fails) f(err);
    }
  };
  return (rpmId: number) =>
    new Promise<ReadonlyMap<string, string>>((resolve, reject) => {
      const k = known?.get(rpmId);
      if (k) return resolve(k);
      if (!batch) {
        batch = new Map();
        queueMicrotask(() => void flush());
      }
      const list = batch.get(rpmId) ?? [];
      list.push(resolve);
      batch.set(rpmId, list);
      failed.push(reject);
    });
}

/**
 * Read (or find cached) the header of each RPM's chosen copy and return the
 * package set as an `OpenedRepo`.
 */
export async function openKojiPackageSet(
  input: KojiPackageSetInput,
  ctx: KojiFilesContext,
): Promise<OpenedRepo & { copies: number }> {
  const info = new Map<PackageRecord, Copy>();
  const unacceptable = new Map<PackageRecord, string>();
  const records = await mapLimit(input.rpms, HEADER_READ_CONCURRENCY, async (rpm) => {
    ctx.signal.throwIfAborted();
    const build = input.builds.get(rpm.buildId);
    if (!build)
      throw new ComposeError(
        `the Koji hub listed RPM ${nvraOf(rpm)} without its build ${rpm.buildId}`,
      );
    const pinned = input.pinnedKeys?.get(nevraOfRpm(rpm));
    const candidates =
      pinned !== undefined
        ? [pinned ?? ""]
        : input.keys.filter((k) => k === "" || rpm.sigkeys.includes(k));
    for (const key of candidates) {
      try {
        const h = await headerOf(rpm, build, key, ctx);
        info.set(h.record, { rpm, key, rel: h.rel });
        return h.record;
      } catch (err) {
        // A recorded signature does not mean its signed copy was written (koji.md §6).
        if (!(err instanceof MissingKojiFileError) || key === "") {
          if (err instanceof MissingKojiFileError)
            throw new ComposeError(
              `the Koji top dir has no file for RPM ${nvraOf(rpm)}: ${err.message}`,
              { retryable: true },
            );
          throw err;
        }
      }
    }
    // No acceptable copy: its header still feeds depsolving; taking it fails the compose.
    let h: CachedHeader & { rel: string };
    try {
      h = await headerOf(rpm, build, "", ctx);
    } catch (err) {
      if (err instanceof MissingKojiFileError)
        throw new ComposeError(
          `the Koji top dir has no file for RPM ${nvraOf(rpm)}: ${err.message}`,
          { retryable: true },
        );
      throw err;
    }
    const tried = candidates.filter((k) => k !== "");
    const keys = input.keys.filter((k) => k !== "");
    unacceptable.set(
      h.record,
      `${nvraOf(rpm)} (${keys.length === 0 ? "no keys" : `keys ${keys.join(", ")}`}: ${
        tried.length === 0 ? "no signature recorded" : `no signed copy for ${tried.join(", ")}`
      })`,
    );
    info.set(h.record, { rpm, key: "", rel: h.rel });
    return h.record;
  });

  records.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0,
  );
  const repodata: Repodata = { repomdChecksum: "", revision: "", packages: records };
  const sighashes = sighashBatcher(ctx, input.sighashes);
  const download = limiter(ctx.top.kind === "url" ? DOWNLOAD_CONCURRENCY : HEADER_READ_CONCURRENCY);

  const copyOf = (pkg: PackageRecord): Copy => {
    const c = info.get(pkg);
    if (!c) throw new Error(`${pkg.location} is not a record of ${input.origin}`);
    return c;
  };

  async function verify(pkg: PackageRecord, c: Copy, d: RpmDigests, where: string): Promise<void> {
    if (d.payloadhash !== c.rpm.payloadhash)
      throw new ComposeError(
        `${where} has payload MD5 ${d.payloadhash}, but the Koji hub says ${c.rpm.payloadhash}`,
        {
          retryable: ctx.top.kind === "url",
        },
      );
    const recorded = (await sighashes(c.rpm.id)).get(pkg.sigkey ?? "");
    if (recorded !== undefined && recorded !== d.sighash)
      throw new ComposeError(
        `${where} has a signature header with MD5 ${d.sighash}, but the Koji hub recorded ${recorded} for key "${pkg.sigkey ?? ""}"`,
        { retryable: ctx.top.kind === "url" },
      );
    pkg.pkgid = d.sha256;
    pkg.sizePackage = d.size;
    await ctx.cache.writeFacts(c.rpm.id, c.key, { size: d.size, sha256: d.sha256 });
  }

  return {
    origin: input.origin,
    repodata,
    copies: records.length,
    digestsOnPlacement: true,
    noAcceptableCopy: (pkg) => unacceptable.get(pkg),
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
    materialise: (pkg, dest, signal) =>
      download(async () => {
        const c = copyOf(pkg);
        const href = topHref(ctx.top, c.rel);
        try {
          if (ctx.top.kind === "dir") {
            const how = await linkFile(href, dest);
            ctx.stats.links++;
            // Checked once: the digests of a Koji file never change.
            if (pkg.pkgid === "")
              await verify(pkg, c, await digestFile(dest, pkg.headerStart), href);
            return how;
          }
          // Downloaded once into the cache, then hardlinked like a mounted top dir.
          const cached = ctx.cache.rpmPath(c.rpm.id, c.key);
          try {
            const how = await linkFile(cached, dest);
            ctx.stats.links++;
            if (pkg.pkgid === "")
              await verify(pkg, c, await digestFile(dest, pkg.headerStart), cached);
            return how;
          } catch (err) {
            if (!(err instanceof MissingKojiFileError)) throw err;
          }
          const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
          const d = await downloadFile(href, tmp, pkg.headerStart, {
            signal,
            timeoutMs: ctx.timeoutMs,
          });
          ctx.stats.downloads++;
          ctx.stats.downloadBytes += d.size;
          try {
            await verify(pkg, c, d, href);
            await rename(tmp, cached);
          } catch (err) {
            await rm(tmp, { force: true });
            throw err;
          }
          await linkFile(cached, dest);
          return "download" as const;
        } catch (err) {
          if (err instanceof MissingKojiFileError)
            throw new ComposeError(`the Koji top dir has no file ${href} any more`, {
              retryable: true,
            });
          throw err;
        }
      }),
  };
}
