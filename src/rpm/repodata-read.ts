/**
 * Reading a yum repository's metadata (repomd.xml → primary, and optionally
 * filelists and other) into `PackageRecord`s. Pure: every byte comes through
 * the `ReadFile` callback, so the same code reads local trees, HTTP mirrors
 * and test fixtures.
 *
 * Files stream: bytes → checksum check → decompression → UTF-8 → XML, one
 * package at a time, so memory holds the records and a few chunks, never a
 * whole file. A file that fails its repomd checksum fails the whole read.
 */
import { concatBytes } from "./bytes.ts";
import { decompressStream, readAll, sha256Hex, verifyChecksum } from "./decompress.ts";
import type { PackageExtra, Repomd, RepomdData } from "./repodata-parse.ts";
import { parseFilelists, parseOther, parsePrimary, parseRepomd } from "./repodata-parse.ts";
import type { Changelog, PackageRecord } from "./types.ts";
import { Interner } from "./xml-scan.ts";

/** A file's content: whole, or as a stream of chunks (a file or HTTP body). */
export type FileBody = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Opens a file by path relative to the repository root, e.g.
 * `repodata/repomd.xml`. Errors may come from the call or from the stream.
 */
export type ReadFile = (relPath: string) => Promise<FileBody>;

export interface Repodata {
  /** sha256 hex of the repomd.xml bytes: the cache key of everything below. */
  repomdChecksum: string;
  /** `<revision>` of repomd.xml, `""` when absent. */
  revision: string;
  /** Binary and source packages, in primary.xml order (duplicates kept). */
  packages: PackageRecord[];
  /**
   * Approximate heap bytes of the strings the records share (interned
   * names, versions, dep names, descriptions …), which a per-record
   * estimate cannot apportion; see `estimateRepodataBytes`.
   */
  sharedBytes?: number;
}

export interface ReadRepodataOptions {
  /** Load filelists.xml: full file lists, `hasFullFilelist` true. */
  filelists?: boolean;
  /** Load other.xml: changelogs. */
  other?: boolean;
  /** Characters of XML buffered before parsing; only tests change it. */
  batchChars?: number;
  /**
   * Largest metadata file once decompressed, in bytes (a decompression bomb
   * is stopped here, not when memory runs out). Default 2 GiB.
   */
  maxBytes?: number;
}

export const REPOMD_PATH = "repodata/repomd.xml";

/** Default of `ReadRepodataOptions.maxBytes` (and of `ODCS_MAX_METADATA_BYTES`). */
export const DEFAULT_MAX_METADATA_BYTES = 2 * 1024 ** 3;

/** Whole buffers are fed on in slices of this size, to bound the decoded text. */
const SLICE_BYTES = 1024 * 1024;

/**
 * Read and parse a repository. Throws when repomd.xml lacks primary, or when
 * a requested filelists/other is listed but unreadable (a half-loaded source
 * would silently change depsolving). A repository whose repomd lists no
 * filelists/other is read without them.
 */
export async function readRepodata(
  read: ReadFile,
  opts: ReadRepodataOptions = {},
): Promise<Repodata> {
  const body = await read(REPOMD_PATH);
  const repomdBytes = body instanceof Uint8Array ? body : await readAll(body);
  return readRepodataWithRepomd(read, repomdBytes, opts);
}

/** As `readRepodata`, with repomd.xml already fetched (e.g. to check a cache first). */
export async function readRepodataWithRepomd(
  read: ReadFile,
  repomdBytes: Uint8Array,
  opts: ReadRepodataOptions = {},
): Promise<Repodata> {
  const repomd = parseRepomd(new TextDecoder("utf-8").decode(repomdBytes));
  const primaryEntry = findData(repomd, "primary");
  if (!primaryEntry) throw new Error("repomd.xml lists no primary metadata");
  const filelistsEntry = opts.filelists ? findData(repomd, "filelists") : undefined;
  const otherEntry = opts.other ? findData(repomd, "other") : undefined;
  const parseOpts = { strings: new Interner(), batchChars: opts.batchChars };
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const packages: PackageRecord[] = [];
  await readXml(read, primaryEntry, maxBytes, (text) =>
    parsePrimary(text, (p) => packages.push(p), parseOpts),
  );
  if (filelistsEntry || otherEntry) {
    const byPkgid = groupByPkgid(packages);
    if (filelistsEntry) {
      await readXml(read, filelistsEntry, maxBytes, (text) =>
        parseFilelists(
          text,
          (extra) => {
            for (const p of byPkgid.get(extra.pkgid) ?? []) {
              p.files = extra.items;
              p.hasFullFilelist = true;
            }
          },
          parseOpts,
        ),
      );
    }
    if (otherEntry) {
      const share = changelogSharer();
      await readXml(read, otherEntry, maxBytes, (text) =>
        parseOther(
          text,
          (extra) => {
            for (const p of byPkgid.get(extra.pkgid) ?? []) p.changelogs = share(p, extra);
          },
          parseOpts,
        ),
      );
    }
  }
  return {
    repomdChecksum: sha256Hex(repomdBytes),
    revision: repomd.revision,
    packages,
    sharedBytes: parseOpts.strings.bytes,
  };
}

function findData(repomd: Repomd, type: string): RepomdData | undefined {
  return repomd.data.find((d) => d.type === type);
}

/**
 * Stream one metadata file into `parse`, checked against its repomd
 * checksum when repomd gives one. Any failure names the file.
 */
async function readXml(
  read: ReadFile,
  entry: RepomdData,
  maxBytes: number,
  parse: (text: AsyncIterable<string>) => Promise<void>,
): Promise<void> {
  if (entry.locationBase) {
    throw new Error(
      `${entry.type} metadata has xml:base ${entry.locationBase}; remote bases are not supported`,
    );
  }
  try {
    let bytes = chunks(await read(entry.location));
    if (entry.checksum && entry.checksumType)
      bytes = verifyChecksum(bytes, entry.checksumType, entry.checksum);
    await parse(decodeUtf8(atMost(decompressStream(bytes, entry.location), maxBytes)));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read ${entry.type} metadata ${entry.location}: ${why}`, {
      cause: err,
    });
  }
}

/**
 * `source` unchanged, failing as soon as it passes `maxBytes`: the
 * decompressor is then stopped (its generator returned), so a small file
 * that inflates to terabytes costs `maxBytes` of work and a few chunks of
 * memory.
 */
async function* atMost(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes)
      throw new Error(
        `it is larger than ${maxBytes} bytes decompressed (ODCS_MAX_METADATA_BYTES); a broken or hostile repository`,
      );
    yield chunk;
  }
}

async function* chunks(body: FileBody): AsyncGenerator<Uint8Array> {
  if (!(body instanceof Uint8Array)) {
    yield* body;
    return;
  }
  for (let at = 0; at < body.length; at += SLICE_BYTES) yield body.subarray(at, at + SLICE_BYTES);
}

/**
 * Bytes decoded per call. Pieces this small are mostly pure ASCII, which
 * `TextDecoder` turns into compact one-byte strings at memcpy speed; one
 * non-ASCII byte makes the whole piece a slower two-byte string.
 */
const DECODE_BYTES = 64 * 1024;

/**
 * UTF-8 text of a byte stream. Each piece is cut before a character split
 * across chunks and decoded on its own: `TextDecoder`'s `stream` mode does
 * the same joining but decodes several times slower.
 */
async function* decodeUtf8(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  // Every piece would otherwise lose a leading U+FEFF; the file's own BOM
  // is text before the first tag, which the scanner skips.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  let carry: Uint8Array | undefined;
  for await (const chunk of bytes) {
    let b = chunk;
    if (carry) {
      b = concatBytes([carry, chunk]);
      carry = undefined;
    }
    const cut = completeUtf8(b);
    if (cut < b.length) carry = b.slice(cut);
    for (let at = 0; at < cut; at += DECODE_BYTES)
      yield decoder.decode(b.subarray(at, Math.min(cut, at + DECODE_BYTES)));
  }
  if (carry) yield decoder.decode(carry);
}

/** Length of the longest prefix of `b` that does not end inside a UTF-8 sequence. */
function completeUtf8(b: Uint8Array): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 4; i--) {
    const c = b[i] ?? 0;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return b.length - i < need ? i : b.length;
  }
  return b.length;
}

function groupByPkgid(packages: PackageRecord[]): Map<string, PackageRecord[]> {
  const map = new Map<string, PackageRecord[]>();
  for (const p of packages) {
    const list = map.get(p.pkgid);
    if (list) list.push(p);
    else map.set(p.pkgid, [p]);
  }
  return map;
}

/**
 * other.xml repeats one source's changelog for each of its binary packages;
 * packages of one source RPM whose entries are the same (interned strings,
 * so `===`) share one list.
 */
function changelogSharer() {
  const bySource = new Map<string, Changelog[]>();
  return (p: PackageRecord, extra: PackageExtra<Changelog>): Changelog[] => {
    const items = extra.items;
    if (!p.sourcerpm || items.length === 0) return items;
    const prev = bySource.get(p.sourcerpm);
    if (prev && sameChangelogs(prev, items)) return prev;
    bySource.set(p.sourcerpm, items);
    return items;
  };
}

function sameChangelogs(a: Changelog[], b: Changelog[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.author !== y.author || x.date !== y.date || x.text !== y.text) return false;
  }
  return true;
}
