/**
 * Reading Koji's RPM files: the first bytes up to the end of the main header
 * (HTTP Range requests on the topurl, positioned reads in a mounted top
 * dir), and whole files placed into a compose — hardlinked from the top dir
 * or downloaded — with the digests that check them against the hub
 * (payloadhash = MD5 of main header + payload, sighash = MD5 of the
 * signature header with its padding, as koji.rip_rpm_sighdr cuts it) and
 * the sha256 the repodata needs.
 */

import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, link, mkdir, open, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { concatBytes } from "../../rpm/bytes.ts";
import { webStreamChunks } from "../../rpm/decompress.ts";
import { RpmFormatError, type RpmHeader, tryParseRpmHeader } from "../../rpm/header.ts";
import { fetchWithin } from "../../timeout-signal.ts";
import { ComposeError } from "../errors.ts";
import { describeFailure } from "../fetch.ts";

/** First read of a header: most headers fit; a larger one says how much more it needs. */
export const HEADER_FIRST_READ_BYTES = 8 * 1024;
const LEAD_BYTES = 96;

/** Where the files are: a mounted top dir wins over the topurl. */
export type KojiTop = { kind: "dir"; dir: string } | { kind: "url"; url: string };

export interface TransferStats {
  /** HTTP requests or file opens for headers. */
  headerRequests: number;
  headerBytes: number;
  /** Whole files downloaded / linked (from the top dir or the download cache). */
  downloads: number;
  downloadBytes: number;
  links: number;
}

export const emptyTransferStats = (): TransferStats => ({
  headerRequests: 0,
  headerBytes: 0,
  downloads: 0,
  downloadBytes: 0,
  links: 0,
});

/** The file is not there (HTTP 404/410, ENOENT): a signed copy that was never written. */
export class MissingKojiFileError extends Error {
  override name = "MissingKojiFileError";
}

export interface HeaderBytes {
  header: RpmHeader;
  /** Lead + signature header + main header. */
  bytes: Uint8Array;
}

/** Parse `bytes` (at least the headers) into the header, its bytes and the signature end. */
export function headerFromBytes(bytes: Uint8Array): HeaderBytes {
  const r = tryParseRpmHeader(bytes);
  if (!r.ok)
    throw new RpmFormatError(`truncated RPM: ${bytes.length} bytes, headers need ${r.needed}`);
  return { header: r.header, bytes: bytes.subarray(0, r.header.headerEnd) };
}

export function topHref(top: KojiTop, rel: string): string {
  return top.kind === "dir"
    ? join(top.dir, rel)
    : new URL(rel, top.url.endsWith("/") ? top.url : `${top.url}/`).href;
}

async function readLocalHeader(path: string, stats: TransferStats): Promise<HeaderBytes> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new MissingKojiFileError(`${path} does not exist`);
    throw new ComposeError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    let buf: Uint8Array = new Uint8Array(0);
    let want = HEADER_FIRST_READ_BYTES;
    for (;;) {
      const more = new Uint8Array(want - buf.length);
      const { bytesRead } = await fh.read(more, 0, more.length, buf.length);
      stats.headerRequests++;
      stats.headerBytes += bytesRead;
      buf = concatBytes([buf, more.subarray(0, bytesRead)]);
      const r = tryParseRpmHeader(buf);
      if (r.ok) return headerFromBytes(buf);
      if (bytesRead === 0 || buf.length < want)
        throw new RpmFormatError(`truncated RPM: ${buf.length} bytes, headers need ${r.needed}`);
      want = r.needed;
    }
  } finally {
    await fh.close();
  }
}

async function rangeGet(
  href: string,
  from: number,
  to: number,
  signal: AbortSignal,
  timeoutMs: number,
) {
  let res: Response;
  try {
    res = await fetchWithin(
      href,
      { headers: { Range: `bytes=${from}-${to - 1}` }, redirect: "error" },
      signal,
      timeoutMs,
    );
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ComposeError(
      `fetching the headers of ${href} failed: ${describeFailure(err, timeoutMs, "ODCS_KOJI_TIMEOUT_MS")}`,
      { retryable: true, cause: err },
    );
  }
  if (res.status === 206 || res.status === 200) return res;
  await res.body?.cancel();
  if (res.status === 404 || res.status === 410)
    throw new MissingKojiFileError(`${href} answered HTTP ${res.status}`);
  throw new ComposeError(`fetching the headers of ${href} answered HTTP ${res.status}`, {
    retryable: res.status >= 500,
  });
}

/** At most `max` bytes of the body; the rest (a server ignoring Range) is cancelled. */
async function readAtMost(res: Response, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  if (res.body)
    for await (const chunk of webStreamChunks(res.body)) {
      const take = chunk.subarray(0, max - size);
      parts.push(take);
      size += take.length;
      if (size >= max) break;
    }
  return concatBytes(parts);
}

async function fetchHeader(
  href: string,
  stats: TransferStats,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<HeaderBytes> {
  let buf: Uint8Array = new Uint8Array(0);
  let want = HEADER_FIRST_READ_BYTES;
  for (;;) {
    const res = await rangeGet(href, buf.length, want, signal, timeoutMs);
    stats.headerRequests++;
    if (res.status === 200 && buf.length > 0) {
      // A server that ignores Range sends the whole file again: start over from it.
      buf = new Uint8Array(0);
    } else if (res.status === 206) {
      const range = res.headers.get("content-range") ?? "";
      if (!range.startsWith(`bytes ${buf.length}-`)) {
        await res.body?.cancel();
        throw new ComposeError(`${href} answered a Range request with Content-Range "${range}"`);
      }
    }
    let part: Uint8Array;
    try {
      part = await readAtMost(res, want - buf.length);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ComposeError(
        `fetching the headers of ${href} failed: ${describeFailure(err, timeoutMs, "ODCS_KOJI_TIMEOUT_MS")}`,
        { retryable: true, cause: err },
      );
    }
    stats.headerBytes += part.length;
    buf = concatBytes([buf, part]);
    const r = tryParseRpmHeader(buf);
    if (r.ok) return headerFromBytes(buf);
    if (buf.length < want)
      throw new RpmFormatError(`truncated RPM: ${buf.length} bytes, headers need ${r.needed}`);
    want = r.needed;
  }
}

/** The header bytes of the file at `rel` under `top`. */
export function readKojiHeader(
  top: KojiTop,
  rel: string,
  opts: { stats: TransferStats; signal: AbortSignal; timeoutMs: number },
): Promise<HeaderBytes> {
  const href = topHref(top, rel);
  return top.kind === "dir"
    ? readLocalHeader(href, opts.stats)
    : fetchHeader(href, opts.stats, opts.signal, opts.timeoutMs);
}

/** Digests of one pass over a whole RPM file. */
export interface RpmDigests {
  size: number;
  sha256: string;
  /** MD5 of `[96, headerStart)`: the signature header and its padding (Koji's sighash). */
  sighash: string;
  /** MD5 of `[headerStart, end)`: Koji's payloadhash. */
  payloadhash: string;
}

/** Feeds bytes in file order to the three digests, each over its own range. */
class DigestPass {
  private at = 0;
  private readonly sha = createHash("sha256");
  private readonly sig = createHash("md5");
  private readonly payload = createHash("md5");
  constructor(private readonly headerStart: number) {}

  private feed(h: Hash, chunk: Uint8Array, from: number, to: number): void {
    const a = Math.max(from - this.at, 0);
    const b = Math.min(to - this.at, chunk.length);
    if (a < b) h.update(chunk.subarray(a, b));
  }

  update(chunk: Uint8Array): void {
    this.sha.update(chunk);
    this.feed(this.sig, chunk, LEAD_BYTES, this.headerStart);
    this.feed(this.payload, chunk, this.headerStart, Number.POSITIVE_INFINITY);
    this.at += chunk.length;
  }

  digests(): RpmDigests {
    return {
      size: this.at,
      sha256: this.sha.digest("hex"),
      sighash: this.sig.digest("hex"),
      payloadhash: this.payload.digest("hex"),
    };
  }
}

/** Digests of a local file. */
export async function digestFile(path: string, headerStart: number): Promise<RpmDigests> {
  const pass = new DigestPass(headerStart);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    pass.update(chunk as Uint8Array);
  return pass.digests();
}

/** Hardlink `src` to `dest` (a copy across file systems). */
export async function linkFile(src: string, dest: string): Promise<"link" | "copy"> {
  await mkdir(dirname(dest), { recursive: true });
  try {
    await link(src, dest);
    return "link";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      await stat(src).catch(() => {
        throw new MissingKojiFileError(`${src} does not exist`);
      });
      throw err;
    }
    if (code !== "EXDEV" && code !== "EPERM") throw err;
    await copyFile(src, dest);
    return "copy";
  }
}

/** Download `href` to `dest`, digesting it on the way. */
export async function downloadFile(
  href: string,
  dest: string,
  headerStart: number,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<RpmDigests> {
  let res: Response;
  try {
    res = await fetchWithin(href, { redirect: "error" }, opts.signal, opts.timeoutMs);
  } catch (err) {
    if (opts.signal.aborted) throw err;
    throw new ComposeError(
      `downloading ${href} failed: ${describeFailure(err, opts.timeoutMs, "ODCS_KOJI_TIMEOUT_MS")}`,
      { retryable: true, cause: err },
    );
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    throw new MissingKojiFileError(`${href} answered HTTP ${res.status}`);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new ComposeError(`downloading ${href} answered HTTP ${res.status}`, {
      retryable: res.status >= 500,
    });
  }
  await mkdir(dirname(dest), { recursive: true });
  const pass = new DigestPass(headerStart);
  const tap = new Transform({
    transform(chunk: Uint8Array, _enc, cb) {
      pass.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), tap, createWriteStream(dest), {
      signal: opts.signal,
    });
  } catch (err) {
    await rm(dest, { force: true });
    if (opts.signal.aborted) throw err;
    throw new ComposeError(
      `downloading ${href} failed: ${describeFailure(err, opts.timeoutMs, "ODCS_KOJI_TIMEOUT_MS")}`,
      { retryable: true, cause: err },
    );
  }
  return pass.digests();
}
