/**
 * Parsers for the four repodata XML documents, from decoded text to typed
 * records. Pure; `repodata-read.ts` does the I/O and joins the results.
 */
import {
  type Changelog,
  DEP_KINDS,
  type Dep,
  type DepFlag,
  type DepKind,
  emptyDepLists,
  type FileEntry,
  type FileType,
  type PackageRecord,
} from "./types.ts";
import { XmlScanner } from "./xml-scan.ts";

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

const DEP_KIND_NAMES: ReadonlySet<string> = new Set(DEP_KINDS);

const FLAGS = new Set<string>(["EQ", "LT", "GT", "LE", "GE"]);

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
    ...emptyDepLists(),
    files: [],
    hasFullFilelist: false,
    changelogs: [],
  };
}

const num = (v: string | undefined) => (v ? Number(v) || 0 : 0);

function readDep(x: XmlScanner): Dep {
  x.readAttrs();
  const dep: Dep = { name: "" };
  for (let k = 0; k < x.attrCount; k++) {
    const v = x.attrValues[k] ?? "";
    switch (x.attrNames[k]) {
      case "name":
        dep.name = v;
        break;
      case "flags":
        if (FLAGS.has(v)) dep.flags = v as DepFlag;
        break;
      case "epoch":
        dep.epoch = v;
        break;
      case "ver":
        dep.ver = v;
        break;
      case "rel":
        dep.rel = v;
        break;
      case "pre":
        if (v === "1" || v === "true") dep.pre = true;
        break;
    }
  }
  return dep;
}

function fileType(v: string | undefined): FileType {
  return v === "dir" || v === "ghost" ? v : "file";
}

function readVersion(x: XmlScanner, into: { epoch: string; version: string; release: string }) {
  into.epoch = x.attr("epoch") || "0";
  into.version = x.attr("ver") ?? "";
  into.release = x.attr("rel") ?? "";
}

/** Every `<package>` of primary.xml, in document order. */
export function parsePrimary(xml: string): PackageRecord[] {
  const x = new XmlScanner(xml);
  const out: PackageRecord[] = [];
  let p: PackageRecord | undefined;
  let deps: Dep[] | undefined;
  while (x.next()) {
    const name = x.name;
    if (x.isEnd) {
      if (name === "package" && p) {
        out.push(p);
        p = undefined;
      } else if (deps && DEP_KIND_NAMES.has(name)) deps = undefined;
      continue;
    }
    if (name === "package") {
      p = newRecord();
      continue;
    }
    if (!p) continue;
    if (deps) {
      if (name === "entry") deps.push(readDep(x));
      continue;
    }
    switch (name) {
      case "name":
        p.name = x.text();
        break;
      case "arch":
        p.arch = x.text();
        break;
      case "version":
        readVersion(x, p);
        break;
      case "checksum":
        p.checksumType = x.attr("type") ?? "";
        p.pkgid = x.text().trim();
        break;
      case "summary":
        p.summary = x.text();
        break;
      case "description":
        p.description = x.text();
        break;
      case "packager":
        p.packager = x.text();
        break;
      case "url":
        p.url = x.text();
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
        p.location = x.attr("href") ?? "";
        const base = x.attr("xml:base");
        if (base) p.locationBase = base;
        break;
      }
      case "license":
        p.license = x.text();
        break;
      case "vendor":
        p.vendor = x.text();
        break;
      case "group":
        p.group = x.text();
        break;
      case "buildhost":
        p.buildhost = x.text();
        break;
      case "sourcerpm":
        p.sourcerpm = x.text();
        break;
      case "header-range":
        p.headerStart = num(x.attr("start"));
        p.headerEnd = num(x.attr("end"));
        break;
      case "file":
        p.files.push({ type: fileType(x.attr("type")), path: x.text() });
        break;
      case "format":
        break;
      default:
        if (DEP_KIND_NAMES.has(name)) {
          if (!x.isEmpty) deps = p[name as DepKind];
        } else x.skipElement();
    }
  }
  return out;
}

/** Per-package payload of filelists.xml or other.xml, keyed by pkgid. */
export interface PackageExtra<T> {
  pkgid: string;
  name: string;
  arch: string;
  items: T[];
}

/** Every `<package>` of filelists.xml with its files. */
export function parseFilelists(xml: string, onPackage: (p: PackageExtra<FileEntry>) => void) {
  parseExtra(xml, "file", (x) => ({ type: fileType(x.attr("type")), path: x.text() }), onPackage);
}

/** Every `<package>` of other.xml with its changelog entries. */
export function parseOther(xml: string, onPackage: (p: PackageExtra<Changelog>) => void) {
  parseExtra(
    xml,
    "changelog",
    (x) => ({ author: x.attr("author") ?? "", date: num(x.attr("date")), text: x.text() }),
    onPackage,
  );
}

function parseExtra<T>(
  xml: string,
  itemTag: string,
  readItem: (x: XmlScanner) => T,
  onPackage: (p: PackageExtra<T>) => void,
) {
  const x = new XmlScanner(xml);
  let cur: PackageExtra<T> | undefined;
  while (x.next()) {
    if (x.isEnd) {
      if (x.name === "package" && cur) {
        onPackage(cur);
        cur = undefined;
      }
      continue;
    }
    if (x.name === "package") {
      x.readAttrs();
      cur = {
        pkgid: x.attr("pkgid") ?? "",
        name: x.attr("name") ?? "",
        arch: x.attr("arch") ?? "",
        items: [],
      };
      if (x.isEmpty) {
        onPackage(cur);
        cur = undefined;
      }
    } else if (cur && x.name === itemTag) cur.items.push(readItem(x));
    else if (cur && x.name !== "version") x.skipElement();
  }
}
