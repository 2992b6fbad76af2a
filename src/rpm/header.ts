import {
  parseLayout,
  type RawHeader,
  RpmFormatError,
  readBinary,
  readNumber,
  readNumbers,
  readString,
  readStrings,
} from "./header-format.ts";
import { FILEFLAG_GHOST, S_IFDIR, S_IFMT, SIGTAG, TAG } from "./header-tags.ts";
import { decodeBase64, shortKeyId } from "./pgp-keyid.ts";
import type { FileType } from "./types.ts";

export { RpmFormatError } from "./header-format.ts";

/** A dependency exactly as stored in the header (flags = RPMSENSE_* bits). */
export interface HeaderDep {
  name: string;
  flags: number;
  /** `[epoch:]version[-release]`, `""` when unversioned. */
  version: string;
}

export interface HeaderFile {
  path: string;
  /** st_mode bits. */
  mode: number;
  /** RPMFILE_* bits. */
  flags: number;
  size: number;
  /** createrepo_c's classification: directory by mode, else ghost by flag, else file. */
  type: FileType;
}

/** Everything the compose engine reads from an RPM's signature and main headers. */
export interface RpmHeader {
  name: string;
  /** `undefined` when the package has no Epoch tag. */
  epoch: number | undefined;
  version: string;
  release: string;
  /** The ARCH tag (for a source RPM: the arch it was built on). */
  arch: string;
  isSource: boolean;
  /** Source RPM file name; `""` for source packages. */
  sourcerpm: string;
  summary: string;
  description: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  url: string;
  packager: string;
  /** Unix seconds. */
  buildTime: number;
  installedSize: number;
  archiveSize: number;
  provides: HeaderDep[];
  requires: HeaderDep[];
  conflicts: HeaderDep[];
  obsoletes: HeaderDep[];
  recommends: HeaderDep[];
  suggests: HeaderDep[];
  supplements: HeaderDep[];
  enhances: HeaderDep[];
  /** Pre-4.12 SUSE-style weak deps (OLDSUGGESTS/OLDENHANCES; STRONG bit = recommends/supplements). */
  oldSuggests: HeaderDep[];
  oldEnhances: HeaderDep[];
  files: HeaderFile[];
  /** `rpm:header-range` as createrepo_c computes it: main header start and end offsets. */
  headerStart: number;
  headerEnd: number;
  /** Lower-case 8-hex short id of the signing key, `null` when the header is unsigned. */
  sigkey: string | null;
}

/** `{ ok: false, needed }`: give at least `needed` bytes from the start of the file. */
export type HeaderParseResult = { ok: true; header: RpmHeader } | { ok: false; needed: number };

/** Signature tags in the order Koji takes them when it derives a sigkey. */
const SIG_TAG_ORDER = [SIGTAG.GPG, SIGTAG.PGP, SIGTAG.DSAHEADER, SIGTAG.RSAHEADER] as const;

function deps(h: RawHeader, nameTag: number, flagTag: number, versionTag: number): HeaderDep[] {
  const names = readStrings(h, nameTag) ?? [];
  const flags = readNumbers(h, flagTag) ?? [];
  const versions = readStrings(h, versionTag) ?? [];
  return names.map((name, i) => ({ name, flags: flags[i] ?? 0, version: versions[i] ?? "" }));
}

function filePaths(h: RawHeader): string[] {
  const basenames = readStrings(h, TAG.BASENAMES);
  if (!basenames) return readStrings(h, TAG.OLDFILENAMES) ?? [];
  const dirnames = readStrings(h, TAG.DIRNAMES) ?? [];
  const dirindexes = readNumbers(h, TAG.DIRINDEXES) ?? [];
  return basenames.map((base, i) => {
    const dir = dirnames[dirindexes[i] ?? -1];
    if (dir === undefined) throw new RpmFormatError(`file ${base} has no directory entry`);
    return dir + base;
  });
}

function files(h: RawHeader): HeaderFile[] {
  const modes = readNumbers(h, TAG.FILEMODES) ?? [];
  const flags = readNumbers(h, TAG.FILEFLAGS) ?? [];
  const sizes = readNumbers(h, TAG.LONGFILESIZES) ?? readNumbers(h, TAG.FILESIZES) ?? [];
  return filePaths(h).map((path, i) => {
    const mode = modes[i] ?? 0;
    const fileFlags = flags[i] ?? 0;
    const type: FileType =
      (mode & S_IFMT) === S_IFDIR ? "dir" : fileFlags & FILEFLAG_GHOST ? "ghost" : "file";
    return { path, mode, flags: fileFlags, size: sizes[i] ?? 0, type };
  });
}

/**
 * rpm's rule (`applyRetrofits`): SOURCEPACKAGE marks a source RPM, SOURCERPM
 * a binary one; with neither, a package whose files have no directory is a
 * source package.
 */
function isSourcePackage(h: RawHeader): boolean {
  if (h.entries.has(TAG.SOURCEPACKAGE)) return true;
  if (h.entries.has(TAG.SOURCERPM)) return false;
  const dirs = readStrings(h, TAG.DIRNAMES);
  if (dirs) return dirs.length === 1 && dirs[0] === "";
  const old = readStrings(h, TAG.OLDFILENAMES);
  return old?.every((p) => !p.includes("/")) ?? false;
}

function sigkeyOf(sig: RawHeader): string | null {
  for (const tag of SIG_TAG_ORDER) {
    const packet = readBinary(sig, tag);
    const id = packet && shortKeyId(packet);
    if (id) return id;
  }
  for (const text of readStrings(sig, SIGTAG.OPENPGP) ?? []) {
    const packet = decodeBase64(text);
    const id = packet && shortKeyId(packet);
    if (id) return id;
  }
  return null;
}

/** Tag of the immutable region every header since rpm 3.0.? carries (RPMTAG_HEADERIMMUTABLE). */
const HEADER_IMMUTABLE = 63;

/**
 * rpm's v3 retrofit (`legacyRetrofit` → `providePackageNVR`): an ancient
 * binary header without an immutable region gets `Provides: name = [E:]V-R`
 * unless it already has it. rpm (and so createrepo_c) applies it on read.
 */
function retrofitSelfProvide(h: RawHeader, header: RpmHeader): void {
  if (h.entries.has(HEADER_IMMUTABLE) || header.isSource) return;
  const evr = `${header.epoch === undefined ? "" : `${header.epoch}:`}${header.version}-${header.release}`;
  const has = header.provides.some(
    (p) => p.name === header.name && (p.flags & 0xf) === 8 && p.version === evr,
  );
  if (!has) header.provides.push({ name: header.name, flags: 8, version: evr });
}

function buildHeader(sig: RawHeader, h: RawHeader): RpmHeader {
  const header = readFields(sig, h);
  retrofitSelfProvide(h, header);
  return header;
}

function readFields(sig: RawHeader, h: RawHeader): RpmHeader {
  const str = (tag: number) => readString(h, tag) ?? "";
  const name = readString(h, TAG.NAME);
  const version = readString(h, TAG.VERSION);
  const release = readString(h, TAG.RELEASE);
  if (name === undefined || version === undefined || release === undefined) {
    throw new RpmFormatError("main header lacks name, version or release");
  }
  const isSource = isSourcePackage(h);
  return {
    name,
    epoch: readNumber(h, TAG.EPOCH),
    version,
    release,
    arch: str(TAG.ARCH),
    isSource,
    sourcerpm: isSource ? "" : str(TAG.SOURCERPM),
    summary: str(TAG.SUMMARY),
    description: str(TAG.DESCRIPTION),
    license: str(TAG.LICENSE),
    vendor: str(TAG.VENDOR),
    group: str(TAG.GROUP),
    buildhost: str(TAG.BUILDHOST),
    url: str(TAG.URL),
    packager: str(TAG.PACKAGER),
    buildTime: readNumber(h, TAG.BUILDTIME) ?? 0,
    installedSize: readNumber(h, TAG.LONGSIZE) ?? readNumber(h, TAG.SIZE) ?? 0,
    // rpm merges these signature-header tags into the main header on read.
    archiveSize:
      readNumber(sig, SIGTAG.LONGARCHIVESIZE) ??
      readNumber(h, SIGTAG.LONGARCHIVESIZE) ??
      readNumber(h, TAG.ARCHIVESIZE) ??
      readNumber(sig, SIGTAG.PAYLOADSIZE) ??
      0,
    provides: deps(h, TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION),
    requires: deps(h, TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION),
    conflicts: deps(h, TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION),
    obsoletes: deps(h, TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION),
    recommends: deps(h, TAG.RECOMMENDNAME, TAG.RECOMMENDFLAGS, TAG.RECOMMENDVERSION),
    suggests: deps(h, TAG.SUGGESTNAME, TAG.SUGGESTFLAGS, TAG.SUGGESTVERSION),
    supplements: deps(h, TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTFLAGS, TAG.SUPPLEMENTVERSION),
    enhances: deps(h, TAG.ENHANCENAME, TAG.ENHANCEFLAGS, TAG.ENHANCEVERSION),
    oldSuggests: deps(h, TAG.OLDSUGGESTSNAME, TAG.OLDSUGGESTSFLAGS, TAG.OLDSUGGESTSVERSION),
    oldEnhances: deps(h, TAG.OLDENHANCESNAME, TAG.OLDENHANCESFLAGS, TAG.OLDENHANCESVERSION),
    files: files(h),
    headerStart: h.start,
    headerEnd: h.end,
    sigkey: sigkeyOf(sig),
  };
}

/**
 * Parse the headers from the first bytes of an .rpm file. Never needs the
 * payload. Returns `{ ok: false, needed }` when `bytes` is too short (ask for
 * `needed` bytes from the start — e.g. an HTTP Range request — and call again;
 * it may ask more than once). Throws {@link RpmFormatError} for a corrupt file.
 */
export function tryParseRpmHeader(bytes: Uint8Array): HeaderParseResult {
  const layout = parseLayout(bytes);
  if (!layout.ok) return layout;
  return { ok: true, header: buildHeader(layout.signature, layout.main) };
}

/** Like {@link tryParseRpmHeader} but a too-short input is a {@link RpmFormatError}. */
export function parseRpmHeader(bytes: Uint8Array): RpmHeader {
  const r = tryParseRpmHeader(bytes);
  if (!r.ok) {
    throw new RpmFormatError(`truncated RPM: ${bytes.length} bytes, headers need ${r.needed}`);
  }
  return r.header;
}

/**
 * Read the headers through `readAt(offset, length)` (a file read or an HTTP
 * Range request), starting with `initialBytes` and fetching only what the
 * format says is still missing. `readAt` returning fewer bytes than asked
 * means end of file.
 */
export async function readRpmHeaderAt(
  readAt: (offset: number, length: number) => Promise<Uint8Array>,
  initialBytes = 16 * 1024,
): Promise<RpmHeader> {
  let buf = await readAt(0, initialBytes);
  let wanted = initialBytes;
  for (;;) {
    const r = tryParseRpmHeader(buf);
    if (r.ok) return r.header;
    if (buf.length < wanted) {
      throw new RpmFormatError(`truncated RPM: ${buf.length} bytes, headers need ${r.needed}`);
    }
    const more = await readAt(buf.length, r.needed - buf.length);
    buf = concat([buf, more]);
    wanted = r.needed;
  }
}

/**
 * Read the headers from a byte stream, consuming only as many chunks as the
 * headers span; the caller closes or drains the stream afterwards.
 */
export async function readRpmHeaderFromStream(
  chunks: AsyncIterable<Uint8Array>,
): Promise<RpmHeader> {
  const parts: Uint8Array[] = [];
  let size = 0;
  let needed = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
    if (size < needed) continue;
    const r = tryParseRpmHeader(concat(parts));
    if (r.ok) return r.header;
    needed = r.needed;
  }
  return parseRpmHeader(concat(parts));
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  parts.splice(0, parts.length, out);
  return out;
}
