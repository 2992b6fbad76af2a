/**
 * The binary layout of an .rpm file up to the end of the main header:
 * 96-byte lead, signature header (padded to 8 bytes), main header. The
 * payload that follows is never looked at.
 *
 * A header is `8e ad e8 01`, 4 reserved bytes, index count `il`, data size
 * `dl` (big-endian u32), then `il` 16-byte index entries (tag, type, offset,
 * count) and `dl` bytes of data.
 */

export const LEAD_SIZE = 96;
const HEADER_INTRO_SIZE = 16;
const INDEX_ENTRY_SIZE = 16;
/** rpm's own limits (`hdrchkTags`, `hdrchkData`); larger values mean a corrupt file. */
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_SIZE = 256 * 1024 * 1024;

const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb] as const;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01] as const;

export const TYPE_CHAR = 1;
export const TYPE_INT8 = 2;
export const TYPE_INT16 = 3;
export const TYPE_INT32 = 4;
export const TYPE_INT64 = 5;
export const TYPE_STRING = 6;
export const TYPE_BIN = 7;
export const TYPE_STRING_ARRAY = 8;
export const TYPE_I18NSTRING = 9;

/** The file is not a readable RPM (bad magic, out-of-range offsets, truncated data …). */
export class RpmFormatError extends Error {
  override name = "RpmFormatError";
}

export interface IndexEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

/** One parsed header: its index and a view of its data store. */
export interface RawHeader {
  entries: Map<number, IndexEntry>;
  data: Uint8Array;
  /** Byte offset of the header's magic within the file. */
  start: number;
  /** Byte offset just past the header's data store. */
  end: number;
}

/** Where the headers of a file lie; `needed` is set when `bytes` is too short. */
export type LayoutResult =
  | { ok: true; signature: RawHeader; main: RawHeader; leadType: number }
  | { ok: false; needed: number };

function u32(b: Uint8Array, at: number): number {
  return (
    (((b[at] ?? 0) << 24) |
      ((b[at + 1] ?? 0) << 16) |
      ((b[at + 2] ?? 0) << 8) |
      (b[at + 3] ?? 0)) >>>
    0
  );
}

function hasMagic(b: Uint8Array, at: number, magic: readonly number[]): boolean {
  return magic.every((m, i) => b[at + i] === m);
}

function parseHeaderAt(
  bytes: Uint8Array,
  start: number,
  what: string,
): RawHeader | { needed: number } {
  if (bytes.length < start + HEADER_INTRO_SIZE) return { needed: start + HEADER_INTRO_SIZE };
  if (!hasMagic(bytes, start, HEADER_MAGIC)) {
    throw new RpmFormatError(`bad ${what} header magic at byte ${start}`);
  }
  const il = u32(bytes, start + 8);
  const dl = u32(bytes, start + 12);
  if (il === 0 || il > MAX_INDEX_ENTRIES) {
    throw new RpmFormatError(`${what} header has an impossible index count ${il}`);
  }
  if (dl > MAX_DATA_SIZE) throw new RpmFormatError(`${what} header data size ${dl} is too large`);
  const dataStart = start + HEADER_INTRO_SIZE + il * INDEX_ENTRY_SIZE;
  const end = dataStart + dl;
  if (bytes.length < end) return { needed: end };
  const entries = new Map<number, IndexEntry>();
  for (let i = 0; i < il; i++) {
    const at = start + HEADER_INTRO_SIZE + i * INDEX_ENTRY_SIZE;
    const entry = {
      tag: u32(bytes, at),
      type: u32(bytes, at + 4),
      offset: u32(bytes, at + 8),
      count: u32(bytes, at + 12),
    };
    if (entry.offset > dl) {
      throw new RpmFormatError(
        `${what} header tag ${entry.tag} points outside the data (${entry.offset} > ${dl})`,
      );
    }
    if (entry.type < TYPE_CHAR || entry.type > TYPE_I18NSTRING) {
      throw new RpmFormatError(`${what} header tag ${entry.tag} has unknown type ${entry.type}`);
    }
    if (!entries.has(entry.tag)) entries.set(entry.tag, entry);
  }
  return { entries, data: bytes.subarray(dataStart, end), start, end };
}

/**
 * Locate and index both headers in the first bytes of an .rpm file. Returns
 * `{ ok: false, needed }` with the total prefix length required when `bytes`
 * is too short (it may ask again for more after the next step); throws
 * {@link RpmFormatError} when the bytes are not an RPM.
 */
export function parseLayout(bytes: Uint8Array): LayoutResult {
  if (bytes.length < LEAD_SIZE) return { ok: false, needed: LEAD_SIZE };
  if (!hasMagic(bytes, 0, LEAD_MAGIC)) throw new RpmFormatError("not an RPM file (bad lead magic)");
  const leadType = ((bytes[6] ?? 0) << 8) | (bytes[7] ?? 0);
  const signature = parseHeaderAt(bytes, LEAD_SIZE, "signature");
  if ("needed" in signature) return { ok: false, needed: signature.needed };
  const pad = (8 - (signature.end % 8)) % 8;
  const main = parseHeaderAt(bytes, signature.end + pad, "main");
  if ("needed" in main) return { ok: false, needed: main.needed };
  return { ok: true, signature, main, leadType };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/**
 * Header strings are bytes; like createrepo_c (`cr_latin1_to_utf8`), text
 * that is not valid UTF-8 is taken as Latin-1.
 */
export function decodeHeaderText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

function nulTerminated(data: Uint8Array, from: number, tag: number): [string, number] {
  const end = data.indexOf(0, from);
  if (end < 0) throw new RpmFormatError(`tag ${tag}: unterminated string`);
  return [decodeHeaderText(data.subarray(from, end)), end + 1];
}

/** Strings of a STRING, STRING_ARRAY or I18NSTRING entry (I18N: every locale, "C" first). */
export function readStrings(h: RawHeader, tag: number): string[] | undefined {
  const e = h.entries.get(tag);
  if (!e) return undefined;
  if (e.type !== TYPE_STRING && e.type !== TYPE_STRING_ARRAY && e.type !== TYPE_I18NSTRING) {
    throw new RpmFormatError(`tag ${tag} is not a string (type ${e.type})`);
  }
  const n = e.type === TYPE_STRING ? 1 : e.count;
  const out: string[] = [];
  let at = e.offset;
  for (let i = 0; i < n; i++) {
    const [s, next] = nulTerminated(h.data, at, tag);
    out.push(s);
    at = next;
  }
  return out;
}

/** First string of a string-typed entry. */
export function readString(h: RawHeader, tag: number): string | undefined {
  return readStrings(h, tag)?.[0];
}

/** Integers of an INT8/16/32/64 (or CHAR) entry; 64-bit values beyond 2^53 lose precision. */
export function readNumbers(h: RawHeader, tag: number): number[] | undefined {
  const e = h.entries.get(tag);
  if (!e) return undefined;
  const width =
    e.type === TYPE_CHAR || e.type === TYPE_INT8
      ? 1
      : e.type === TYPE_INT16
        ? 2
        : e.type === TYPE_INT32
          ? 4
          : e.type === TYPE_INT64
            ? 8
            : 0;
  if (width === 0) throw new RpmFormatError(`tag ${tag} is not an integer (type ${e.type})`);
  if (e.offset + width * e.count > h.data.length) {
    throw new RpmFormatError(`tag ${tag}: ${e.count} values run past the header data`);
  }
  const view = new DataView(h.data.buffer, h.data.byteOffset, h.data.byteLength);
  const out: number[] = new Array(e.count);
  for (let i = 0; i < e.count; i++) {
    const at = e.offset + i * width;
    out[i] =
      width === 1
        ? view.getUint8(at)
        : width === 2
          ? view.getUint16(at)
          : width === 4
            ? view.getUint32(at)
            : Number(view.getBigUint64(at));
  }
  return out;
}

/** First integer of an integer entry. */
export function readNumber(h: RawHeader, tag: number): number | undefined {
  return readNumbers(h, tag)?.[0];
}

/** Raw bytes of a BIN entry. */
export function readBinary(h: RawHeader, tag: number): Uint8Array | undefined {
  const e = h.entries.get(tag);
  if (!e) return undefined;
  if (e.type !== TYPE_BIN) throw new RpmFormatError(`tag ${tag} is not binary (type ${e.type})`);
  if (e.offset + e.count > h.data.length) {
    throw new RpmFormatError(`tag ${tag}: ${e.count} bytes run past the header data`);
  }
  return h.data.subarray(e.offset, e.offset + e.count);
}
