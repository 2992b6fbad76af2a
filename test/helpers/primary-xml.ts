/**
 * Minimal reader for createrepo_c's own primary.xml output, used only as a
 * test oracle (the output is machine-written and regular, so patterns are
 * enough; production code uses the real repodata reader).
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DEP_KINDS, type Dep, type FileEntry } from "../../src/rpm/types.ts";

export interface PrimaryPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  location: string;
  timeBuild: number;
  sizeInstalled: number;
  sizeArchive: number;
  sizePackage: number;
  sourcerpm: string;
  headerStart: number;
  headerEnd: number;
  deps: Record<string, Dep[]>;
  files: FileEntry[];
}

const xmlUnescape = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, "&");

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)="([^"]*)"/g)) out[m[1] ?? ""] = xmlUnescape(m[2] ?? "");
  return out;
}

function parsePackage(xml: string): PrimaryPackage {
  const text = (el: string) =>
    xmlUnescape(new RegExp(`<${el}>([\\s\\S]*?)</${el}>`).exec(xml)?.[1] ?? "");
  const tagAttrs = (el: string) => attrs(new RegExp(`<${el} [^>]*>`).exec(xml)?.[0] ?? "");
  const version = tagAttrs("version");
  const time = tagAttrs("time");
  const size = tagAttrs("size");
  const range = tagAttrs("rpm:header-range");
  const deps: Record<string, Dep[]> = {};
  for (const kind of DEP_KINDS) {
    const block = new RegExp(`<rpm:${kind}>([\\s\\S]*?)</rpm:${kind}>`).exec(xml)?.[1] ?? "";
    deps[kind] = [...block.matchAll(/<rpm:entry [^>]*\/>/g)].map((m) => {
      const a = attrs(m[0]);
      const dep: Dep = { name: a.name ?? "" };
      if (a.flags) dep.flags = a.flags as Dep["flags"];
      if (a.epoch !== undefined) dep.epoch = a.epoch;
      if (a.ver !== undefined) dep.ver = a.ver;
      if (a.rel !== undefined) dep.rel = a.rel;
      if (a.pre === "1") dep.pre = true;
      return dep;
    });
  }
  const files = [...xml.matchAll(/<file(?: type="(\w+)")?>([^<]*)<\/file>/g)].map((m) => ({
    path: xmlUnescape(m[2] ?? ""),
    type: (m[1] ?? "file") as FileEntry["type"],
  }));
  return {
    name: text("name"),
    arch: text("arch"),
    epoch: version.epoch ?? "",
    version: version.ver ?? "",
    release: version.rel ?? "",
    location: tagAttrs("location").href ?? "",
    timeBuild: Number(time.build),
    sizeInstalled: Number(size.installed),
    sizeArchive: Number(size.archive),
    sizePackage: Number(size.package),
    sourcerpm: text("rpm:sourcerpm"),
    headerStart: Number(range.start),
    headerEnd: Number(range.end),
    deps,
    files,
  };
}

/** Packages of a repository's primary.xml(.gz), keyed by location href. */
export function readPrimary(repoDir: string): Map<string, PrimaryPackage> {
  const repomd = readFileSync(`${repoDir}/repodata/repomd.xml`, "utf8");
  const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1];
  if (!href) throw new Error(`no primary in ${repoDir}/repodata/repomd.xml`);
  const raw = readFileSync(`${repoDir}/${href}`);
  const xml = (href.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
  const out = new Map<string, PrimaryPackage>();
  for (const m of xml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const p = parsePackage(m[1] ?? "");
    out.set(p.location, p);
  }
  return out;
}
