/**
 * Signing keys of source packages, read from the RPM headers. Repodata
 * carries no signatures, so when a compose filters by sigkeys the worker
 * reads the first bytes of each RPM the selection needs (the selected
 * packages and their copies in other source repos, `rpm/select-signed.ts`)
 * — a positioned file read or an HTTP Range request — and never the payload.
 */

import { webStreamChunks } from "../rpm/decompress.ts";
import {
  RpmFormatError,
  type RpmHeader,
  readRpmHeaderFromStream,
  tryParseRpmHeader,
} from "../rpm/header.ts";
import type { Repodata } from "../rpm/repodata-read.ts";
import { readRpmFileHeader } from "../rpm/rpm-file.ts";
import type { PackageRecord } from "../rpm/types.ts";
import { fetchWithin } from "../timeout-signal.ts";
import { ComposeError } from "./errors.ts";
import { mapLimit } from "./limit.ts";
import type { OpenedRepo } from "./types.ts";

/**
 * First read when the metadata gives no `rpm:header-range`. With it, the
 * first read is exactly the headers (lead + signature + main header), so one
 * request per package; without it, most headers fit in this and the rest say
 * how much more they need.
 */
export const DEFAULT_HEADER_BYTES = 64 * 1024;
/** A header-range hint above this is not trusted for the first read (hostile metadata). */
const MAX_HEADER_HINT_BYTES = 16 * 1024 * 1024;
/** Header reads in flight at once, over all source repos of a compose. */
export const SIGKEY_READ_CONCURRENCY = 32;

/** Bytes to ask for first: the metadata's header end when it is plausible. */
export function firstReadBytes(pkg: Pick<PackageRecord, "headerEnd">): number {
  const end = pkg.headerEnd;
  return Number.isSafeInteger(end) && end > 0 && end <= MAX_HEADER_HINT_BYTES
    ? end
    : DEFAULT_HEADER_BYTES;
}

/** The headers of a local .rpm: positioned reads of `initialBytes`, then what the format says is missing. */
export function readLocalRpmHeader(path: string, initialBytes: number): Promise<RpmHeader> {
  return readRpmFileHeader(path, initialBytes);
}

/** The metadata lists an RPM the repository does not have (HTTP 404/410). */
export class MissingRpmError extends Error {
  override name = "MissingRpmError";
}

/** Counters of {@link fetchRpmHeader} (shared by the calls of one compose). */
export interface HeaderFetchStats {
  requests: number;
  bytes: number;
}

export interface FetchHeaderOptions {
  signal: AbortSignal;
  timeoutMs: number;
  initialBytes: number;
  stats?: HeaderFetchStats;
}

async function rangeGet(
  href: string,
  from: number,
  to: number,
  opts: FetchHeaderOptions,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetchWithin(
      href,
      {
        headers: { Range: `bytes=${from}-${to - 1}` },
        redirect: "error",
      },
      opts.signal,
      opts.timeoutMs,
    );
  } catch (err) {
    if (opts.signal.aborted) throw err;
    throw new ComposeError(`fetching the headers of ${href} failed: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
  if (opts.stats) opts.stats.requests++;
  if (res.status === 206 || (res.status === 200 && from === 0)) return res;
  await res.body?.cancel();
  if (res.status === 404 || res.status === 410)
    throw new MissingRpmError(`${href} answered HTTP ${res.status}`);
  throw new ComposeError(`fetching the headers of ${href} answered HTTP ${res.status}`, {
    retryable: res.status >= 500,
  });
}

/** The body as chunks; stopping the iteration early cancels the rest of the download. */
async function* chunksOf(res: Response): AsyncGenerator<Uint8Array> {
  if (res.body) yield* webStreamChunks(res.body);
}

/** At most `max` bytes of the body; a longer body is cut and cancelled. */
async function readAtMost(res: Response, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunksOf(res)) {
    const take = chunk.subarray(0, max - size);
    parts.push(take);
    size += take.length;
    if (size >= max) break;
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The headers of a remote .rpm with HTTP Range requests (`bytes=0-N`, then
 * whatever the format says is still missing). A server that ignores Range
 * answers 200 with the whole file: only the chunks the headers span are read
 * and the download is cancelled. Network failures and 5xx are retryable.
 */
export async function fetchRpmHeader(href: string, opts: FetchHeaderOptions): Promise<RpmHeader> {
  let buf: Uint8Array = new Uint8Array(0);
  let want = opts.initialBytes;
  for (;;) {
    const res = await rangeGet(href, buf.length, want, opts);
    if (res.status === 200) {
      let seen = 0;
      const counted = async function* () {
        for await (const chunk of chunksOf(res)) {
          seen += chunk.length;
          yield chunk;
        }
      };
      try {
        return await readRpmHeaderFromStream(counted());
      } finally {
        if (opts.stats) opts.stats.bytes += seen;
      }
    }
    const range = res.headers.get("content-range") ?? "";
    if (!range.startsWith(`bytes ${buf.length}-`)) {
      await res.body?.cancel();
      throw new ComposeError(`${href} answered a Range request with Content-Range "${range}"`);
    }
    const part = await readAtMost(res, want - buf.length);
    if (opts.stats) opts.stats.bytes += part.length;
    buf = concat([buf, part]);
    const r = tryParseRpmHeader(buf);
    if (r.ok) return r.header;
    if (buf.length < want)
      throw new RpmFormatError(`truncated RPM: ${buf.length} bytes, headers need ${r.needed}`);
    want = r.needed;
  }
}

export interface SigkeyFillStats {
  /** Headers read now (including the missing files). */
  read: number;
  /** Records whose RPM file is not in the repository: their sigkey stays unknown. */
  missing: Set<PackageRecord>;
  /** Records whose sigkey was already known (an earlier compose read it). */
  known: number;
  ms: number;
}

/** One record and the source its RPM is read from. */
export interface SourcedRecord {
  repo: OpenedRepo;
  pkg: PackageRecord;
}

const nevr = (p: { name: string; version: string; release: string }) =>
  `${p.name}-${p.version}-${p.release}`;

/**
 * Set `sigkey` (lower-case 8-hex, `null` unsigned) on each given record whose
 * sigkey is still unknown (a record listed twice is read once), reading the
 * headers at most {@link SIGKEY_READ_CONCURRENCY} at once. The records are
 * the objects cached with their repodata (keyed by the repomd checksum), so
 * a value once set is reused by later composes and this is cheap to repeat.
 * A header that does not match its record (a stale repository) or cannot
 * be parsed fails the compose; the first failure stops the other reads. A
 * missing file (ENOENT, HTTP 404/410) is reported in `missing`, not thrown.
 */
export async function fillSigkeys(
  records: Iterable<SourcedRecord>,
  signal: AbortSignal,
): Promise<SigkeyFillStats> {
  const started = performance.now();
  const todo = new Map<PackageRecord, SourcedRecord>();
  const known = new Set<PackageRecord>();
  for (const r of records) {
    if (r.pkg.sigkey === undefined) {
      if (!todo.has(r.pkg)) todo.set(r.pkg, r);
    } else known.add(r.pkg);
  }
  const missing = new Set<PackageRecord>();
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  await mapLimit([...todo.values()], SIGKEY_READ_CONCURRENCY, async ({ repo, pkg }) => {
    both.throwIfAborted();
    try {
      const header = await repo.readHeader(pkg, both);
      if (
        header.name !== pkg.name ||
        header.version !== pkg.version ||
        header.release !== pkg.release
      )
        throw new ComposeError(
          `${pkg.location} in ${repo.origin} is ${nevr(header)}, but the metadata says ${nevr(pkg)}`,
        );
      pkg.sigkey = header.sigkey;
    } catch (err) {
      if (err instanceof MissingRpmError || (err as NodeJS.ErrnoException).code === "ENOENT") {
        missing.add(pkg);
        return;
      }
      stop.abort(err);
      if (signal.aborted || err instanceof ComposeError) throw err;
      // Network failures arrive as retryable ComposeErrors; a corrupt or missing file stays so.
      throw new ComposeError(
        `cannot read the signature of ${pkg.location} in ${repo.origin}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
  return { read: todo.size, missing, known: known.size, ms: performance.now() - started };
}

/**
 * `repodata` without the records whose RPM is missing: with sigkeys a file
 * that cannot be checked cannot be accepted, so it is treated as absent (a
 * request for it is "not present") rather than failing every compose of a
 * partial mirror. The records themselves are shared and left untouched.
 */
export function withoutMissing(repodata: Repodata, missing: ReadonlySet<PackageRecord>): Repodata {
  if (missing.size === 0) return repodata;
  return { ...repodata, packages: repodata.packages.filter((p) => !missing.has(p)) };
}
