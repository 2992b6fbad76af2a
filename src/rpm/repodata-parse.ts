/**
 * Parsers for the four repodata XML documents, from decoded text to typed
 * records. Pure; `repodata-read.ts` does the I/O and joins the results.
 *
 * primary, filelists and other arrive as streams of text and leave one
 * package at a time. Records keep no view of the text they were read from:
 * repeated values (arch, versions, dep names, packager …) are interned,
 * unique ones copied (see `detach`), and empty lists share one frozen array.
 */
import {
  type Changelog,
  DEP_KINDS,
  type Dep,
  type DepFlag,
  type DepKind,
  type Evr,
  type FileEntry,
  type FileType,
  type PackageRecord,
} from "./types.ts";
import { detach, Interner, scanXml, XmlScanner } from "./xml-scan.ts";

/** One `<data>` entry of repomd.xml. */
export interface RepomdData {
  type: string;
  location: string;
  locationBase?: string;
  checksum?: string;
  checksumType?: string;
  openChecksum?: string;
}

export interface Repomd {
  revision: string;
  data: RepomdData[];
}

export function parseRepomd(xml: string): Repomd {
  const x = new XmlScanner(xml);
  const data: RepomdData[] = [];
  let revision = "";
  let cur: RepomdData | undefined;
  while (x.next()) {
    if (x.isEnd) {
      if (x.name === "data" && cur) {
        data.push(cur);
        cur = undefined;
      }
      continue;
    }
    if (x.name === "revision" && !cur) revision = x.text().trim();
    else if (x.name === "data") cur = { type: x.attr("type") ?? "", location: "" };
    else if (!cur) continue;
    else if (x.name === "location") {
      cur.location = x.attr("href") ?? "";
      const base = x.attr("xml:base");
      if (base) cur.locationBase = base;
    } else if (x.name === "checksum") {
      cur.checksumType = x.attr("type");
      cur.checksum = x.text().trim();
    } else if (x.name === "open-checksum") cur.openChecksum = x.text().trim();
    else x.skipElement();
  }
  return { revision, data };
}

/** How a stream parse runs. */
export interface ParseOptions {
  /** One per repository, shared by its primary, filelists and other. */
  strings?: Interner;
  /** Characters buffered before parsing starts (tests use tiny ones to split everywhere). */
  batchChars?: number;
}

const DEP_KIND_NAMES: ReadonlySet<string> = new Set(DEP_KINDS);

/**
 * The one empty list every record without deps/files/changelogs shares.
 * Frozen: a consumer that pushes into a loaded record fails loudly instead
 * of changing every package.
 */
const EMPTY: readonly never[] = Object.freeze([]);
function none<T>(): T[] {
  return EMPTY as unknown as T[];
}

function newRecord(): PackageRecord {
  return {
    name: "",
    arch: "",
    epoch: "0",
    version: "",
    release: "",
    pkgid: "",
    checksumType: "",
    summary: "",
    description: "",
    packager: "",
    url: "",
    timeFile: 0,
    timeBuild: 0,
    sizePackage: 0,
    sizeInstalled: 0,
    sizeArchive: 0,
    location: "",
    license: "",
    vendor: "",
    group: "",
    buildhost: "",
    sourcerpm: "",
    headerStart: 0,
    headerEnd: 0,
    provides: none(),
    requires: none(),
    conflicts: none(),
    obsoletes: none(),
    suggests: none(),
    enhances: none(),
    recommends: none(),
    supplements: none(),
    files: none(),
    hasFullFilelist: false,
    changelogs: none(),
  };
}

const num = (v: string | undefined) => (v ? Number(v) || 0 : 0);

function depFlag(v: string): DepFlag | undefined {
  switch (v) {
    case "EQ":
      return "EQ";
    case "LT":
      return "LT";
    case "GT":
      return "GT";
    case "LE":
      return "LE";
    case "GE":
      return "GE";
    default:
      return undefined;
  }
}

/**
 * One `<rpm:entry>`. The object is built in one literal of the final shape
 * where the attributes are the usual ones (bare name; full flags/e/v/r):
 * properties added later would go to a separate backing store.
 */
function readDep(x: XmlScanner, str: Interner, own: Evr): Dep {
  x.readAttrs();
  let name = "";
  let flags: DepFlag | undefined;
  let epoch: string | undefined;
  let ver: string | undefined;
  let rel: string | undefined;
  let pre = false;
  for (let k = 0; k < x.attrCount; k++) {
    const attr = x.attrNames[k];
    if (attr === "pre") {
      const v = x.attrValue(k);
      pre = v === "1" || v === "true";
      continue;
    }
    // Most versioned deps name the package's own version (AppStream: 81%
    // of vers, 97% of rels): compared in place, they need no hashing.
    const v =
      attr === "ver" && x.attrIs(k, own.version)
        ? own.version
        : attr === "rel" && x.attrIs(k, own.release)
          ? own.release
          : x.internAttrValue(k, str);
    if (attr === "name") name = v;
    else if (attr === "flags") flags = depFlag(v);
    else if (attr === "epoch") epoch = v;
    else if (attr === "ver") ver = v;
    else if (attr === "rel") rel = v;
  }
  if (flags === undefined && epoch === undefined && ver === undefined && rel === undefined)
    return pre ? { name, pre } : { name };
  if (flags !== undefined && epoch !== undefined && ver !== undefined && !pre)
    return rel === undefined ? { name, flags, epoch, ver } : { name, flags, epoch, ver, rel };
  const dep: Dep = { name };
  if (flags !== undefined) dep.flags = flags;
  if (epoch !== undefined) dep.epoch = epoch;
  if (ver !== undefined) dep.ver = ver;
  if (rel !== undefined) dep.rel = rel;
  if (pre) dep.pre = true;
  return dep;
}

/** The entries of one dependency block, its end tag included. */
function readDeps(x: XmlScanner, str: Interner, own: Evr): Dep[] {
  const deps: Dep[] = [];
  while (x.next()) {
    if (x.isEnd) {
      if (DEP_KIND_NAMES.has(x.name)) break;
    } else if (x.name === "entry") deps.push(readDep(x, str, own));
  }
  return deps;
}

function fileType(v: string | undefined): FileType {
  return v === "dir" || v === "ghost" ? v : "file";
}

function readFile(x: XmlScanner): FileEntry {
  return { type: fileType(x.attr("type")), path: detach(x.text()) };
}

/**
 * Elements of `<package>` whose text is the field of the same name. They
 * are read through one call site: TurboFan compiles every inlined copy of
 * the interning path, and on a busy 2-core host that compile time showed
 * up as load time.
 */
const TEXT_FIELD_NAMES = [
  "name",
  "arch",
  "summary",
  "description",
  "packager",
  "url",
  "license",
  "vendor",
  "group",
  "buildhost",
  "sourcerpm",
] as const;
const TEXT_FIELDS: ReadonlyMap<string, (typeof TEXT_FIELD_NAMES)[number]> = new Map(
  TEXT_FIELD_NAMES.map((f) => [f, f]),
);

/** `<version epoch ver rel/>` into `p`, attributes in any order. */
function readVersion(x: XmlScanner, str: Interner, p: Evr): void {
  x.readAttrs();
  p.epoch = "0";
  for (let k = 0; k < x.attrCount; k++) {
    const attr = x.attrNames[k];
    if (attr !== "epoch" && attr !== "ver" && attr !== "rel") continue;
    const v = x.internAttrValue(k, str);
    if (attr === "epoch") p.epoch = v || "0";
    else if (attr === "ver") p.version = v;
    else p.release = v;
  }
}

/** One `<package>` of primary.xml, from after its start tag through its end tag. */
function readPackage(x: XmlScanner, str: Interner): PackageRecord {
  const p = newRecord();
  const files: FileEntry[] = [];
  while (x.next()) {
    const name = x.name;
    if (x.isEnd) {
      if (name !== "package") continue;
      if (files.length) p.files = files;
      return p;
    }
    const field = TEXT_FIELDS.get(name);
    if (field !== undefined) {
      p[field] = x.internText(str);
      continue;
    }
    switch (name) {
      case "version":
        readVersion(x, str, p);
        break;
      case "checksum":
        p.checksumType = x.internAttr("type", str) ?? "";
        p.pkgid = detach(x.text().trim());
        break;
      case "time":
        p.timeFile = num(x.attr("file"));
        p.timeBuild = num(x.attr("build"));
        break;
      case "size":
        p.sizePackage = num(x.attr("package"));
        p.sizeInstalled = num(x.attr("installed"));
        p.sizeArchive = num(x.attr("archive"));
        break;
      case "location": {
        p.location = detach(x.attr("href") ?? "");
        const base = x.attr("xml:base");
        if (base) p.locationBase = detach(base);
        break;
      }
      case "header-range":
        p.headerStart = num(x.attr("start"));
        p.headerEnd = num(x.attr("end"));
        break;
      case "file":
        files.push(readFile(x));
        break;
      case "format":
        break;
      default:
        if (DEP_KIND_NAMES.has(name)) {
          if (x.isEmpty) break;
          const kind = name as DepKind;
          const deps = readDeps(x, str, p);
          if (deps.length) p[kind] = p[kind].length ? p[kind].concat(deps) : deps;
        } else x.skipElement();
    }
  }
  throw new Error("unterminated <package> in XML");
}

/** Every `<package>` of primary.xml, in document order. */
export function parsePrimary(
  text: AsyncIterable<string>,
  onPackage: (p: PackageRecord) => void,
  opts: ParseOptions = {},
): Promise<void> {
  const str = opts.strings ?? new Interner();
  const step = (x: XmlScanner) => {
    if (!x.next()) return false;
    if (x.name === "package" && !x.isEnd && !x.isEmpty) onPackage(readPackage(x, str));
    return true;
  };
  return scanXml(text, step, { batchChars: opts.batchChars, unitEnd: "</package>" });
}

/**
 * Per-package payload of filelists.xml or other.xml, keyed by pkgid.
 * `pkgid`, `name` and `arch` are views of the parse buffer: valid for the
 * callback, `detach` them to keep them.
 */
export interface PackageExtra<T> {
  pkgid: string;
  name: string;
  arch: string;
  items: T[];
}

/** Every `<package>` of filelists.xml with its files. */
export function parseFilelists(
  text: AsyncIterable<string>,
  onPackage: (p: PackageExtra<FileEntry>) => void,
  opts: ParseOptions = {},
): Promise<void> {
  return parseExtra(text, "file", readFile, onPackage, opts);
}

/** Every `<package>` of other.xml with its changelog entries. */
export function parseOther(
  text: AsyncIterable<string>,
  onPackage: (p: PackageExtra<Changelog>) => void,
  opts: ParseOptions = {},
): Promise<void> {
  const str = opts.strings ?? new Interner();
  // Subpackages of one source carry the same changelog: interned, the
  // entries' strings are shared; `repodata-read` shares whole lists.
  const readChangelog = (x: XmlScanner): Changelog => ({
    author: x.internAttr("author", str) ?? "",
    date: num(x.attr("date")),
    text: x.internText(str),
  });
  return parseExtra(text, "changelog", readChangelog, onPackage, { ...opts, strings: str });
}

function parseExtra<T>(
  text: AsyncIterable<string>,
  itemTag: string,
  readItem: (x: XmlScanner) => T,
  onPackage: (p: PackageExtra<T>) => void,
  opts: ParseOptions,
): Promise<void> {
  const step = (x: XmlScanner) => {
    if (!x.next()) return false;
    const isPackage = !x.isEnd && x.name === "package";
    if (!isPackage) return true;
    x.readAttrs();
    const cur: PackageExtra<T> = {
      pkgid: x.attr("pkgid") ?? "",
      name: x.attr("name") ?? "",
      arch: x.attr("arch") ?? "",
      items: none(),
    };
    if (!x.isEmpty) {
      const items: T[] = [];
      for (;;) {
        if (!x.next()) throw new Error("unterminated <package> in XML");
        if (x.isEnd) {
          if (x.name === "package") break;
        } else if (x.name === itemTag) items.push(readItem(x));
        else if (x.name !== "version") x.skipElement();
      }
      if (items.length) cur.items = items;
    }
    onPackage(cur);
    return true;
  };
  return scanXml(text, step, { batchChars: opts.batchChars, unitEnd: "</package>" });
}
