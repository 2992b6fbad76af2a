/**
 * Serialises PackageRecords into yum repodata (primary, filelists, other,
 * repomd) byte for byte as createrepo_c 0.17 writes them: same element order,
 * attribute order, two-space indentation, escaping (see xml-escape.ts) and
 * header/footer. Pure string building; the caller streams the pieces into
 * compressors (src/worker/tools/write-repodata.ts).
 *
 * Each `*PackageXml` function returns one `<package>` element followed by a
 * newline; a file is `*Header(n)` + n packages + `*_FOOTER`.
 */
import type { Dep, FileEntry, PackageRecord } from "./types.ts";
import { escapeAttr, escapeText } from "./xml-escape.ts";

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const RPM_NS = "http://linux.duke.edu/metadata/rpm";

export const PRIMARY_FOOTER = "</metadata>";
export const FILELISTS_FOOTER = "</filelists>";
export const OTHER_FOOTER = "</otherdata>";

export function primaryHeader(count: number): string {
  return `${XML_DECL}<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="${RPM_NS}" packages="${count}">\n`;
}

export function filelistsHeader(count: number): string {
  return `${XML_DECL}<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${count}">\n`;
}

export function otherHeader(count: number): string {
  return `${XML_DECL}<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${count}">\n`;
}

/**
 * Whether a file path belongs in primary.xml (createrepo_c's `cr_is_primary`):
 * under /etc/, containing `bin/`, or exactly /usr/lib/sendmail. dnf relies on
 * this subset to resolve file requires without loading filelists.
 */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith("/etc/") || path.includes("bin/") || path === "/usr/lib/sendmail";
}

function textElement(indent: string, name: string, value: string): string {
  return `${indent}<${name}>${escapeText(value)}</${name}>\n`;
}

function versionElement(indent: string, pkg: PackageRecord): string {
  return `${indent}<version epoch="${escapeAttr(pkg.epoch)}" ver="${escapeAttr(pkg.version)}" rel="${escapeAttr(pkg.release)}"/>\n`;
}

function depEntry(dep: Dep, isRequires: boolean): string {
  let s = `      <rpm:entry name="${escapeAttr(dep.name)}"`;
  if (dep.flags) {
    s += ` flags="${dep.flags}"`;
    if (dep.epoch) s += ` epoch="${escapeAttr(dep.epoch)}"`;
    if (dep.ver) s += ` ver="${escapeAttr(dep.ver)}"`;
    if (dep.rel) s += ` rel="${escapeAttr(dep.rel)}"`;
  }
  if (isRequires && dep.pre) s += ' pre="1"';
  return `${s}/>\n`;
}

/** An `<rpm:provides>`-style block; empty string for an empty list, as createrepo_c omits it. */
function depBlock(name: string, deps: readonly Dep[], isRequires = false): string {
  if (deps.length === 0) return "";
  let body = "";
  for (const dep of deps) {
    if (dep.name !== "") body += depEntry(dep, isRequires);
  }
  // createrepo_c writes the (then empty) element when every entry had an empty name.
  return body === "" ? `    <rpm:${name}/>\n` : `    <rpm:${name}>\n${body}    </rpm:${name}>\n`;
}

function fileElements(indent: string, files: readonly FileEntry[], primaryOnly: boolean): string {
  let s = "";
  for (const f of files) {
    if (primaryOnly && !isPrimaryFile(f.path)) continue;
    const type = f.type === "file" ? "" : ` type="${f.type}"`;
    s += `${indent}<file${type}>${escapeText(f.path)}</file>\n`;
  }
  return s;
}

function locationElement(href: string, base: string | undefined): string {
  if (base === undefined || base === "") return `  <location href="${escapeAttr(href)}"/>\n`;
  // createrepo_c turns an absolute local path into a file:// URL.
  const url = base.startsWith("/") ? `file://${base}` : base;
  return `  <location xml:base="${escapeAttr(url)}" href="${escapeAttr(href)}"/>\n`;
}

/**
 * One primary.xml `<package>`. `location`/`locationBase` are where the package
 * lives in the repository being written, which may differ from where the
 * record was read (`pkg.location`).
 */
export function primaryPackageXml(
  pkg: PackageRecord,
  location: string = pkg.location,
  locationBase: string | undefined = undefined,
): string {
  return (
    '<package type="rpm">\n' +
    textElement("  ", "name", pkg.name) +
    textElement("  ", "arch", pkg.arch) +
    versionElement("  ", pkg) +
    `  <checksum type="${escapeAttr(pkg.checksumType)}" pkgid="YES">${escapeText(pkg.pkgid)}</checksum>\n` +
    textElement("  ", "summary", pkg.summary) +
    textElement("  ", "description", pkg.description) +
    textElement("  ", "packager", pkg.packager) +
    textElement("  ", "url", pkg.url) +
    `  <time file="${pkg.timeFile}" build="${pkg.timeBuild}"/>\n` +
    `  <size package="${pkg.sizePackage}" installed="${pkg.sizeInstalled}" archive="${pkg.sizeArchive}"/>\n` +
    locationElement(location, locationBase) +
    "  <format>\n" +
    textElement("    ", "rpm:license", pkg.license) +
    textElement("    ", "rpm:vendor", pkg.vendor) +
    textElement("    ", "rpm:group", pkg.group) +
    textElement("    ", "rpm:buildhost", pkg.buildhost) +
    textElement("    ", "rpm:sourcerpm", pkg.sourcerpm) +
    `    <rpm:header-range start="${pkg.headerStart}" end="${pkg.headerEnd}"/>\n` +
    depBlock("provides", pkg.provides) +
    depBlock("requires", pkg.requires, true) +
    depBlock("conflicts", pkg.conflicts) +
    depBlock("obsoletes", pkg.obsoletes) +
    depBlock("suggests", pkg.suggests) +
    depBlock("enhances", pkg.enhances) +
    depBlock("recommends", pkg.recommends) +
    depBlock("supplements", pkg.supplements) +
    fileElements("    ", pkg.files, true) +
    "  </format>\n</package>\n"
  );
}

function packageOpenTag(pkg: PackageRecord): string {
  return `<package pkgid="${escapeAttr(pkg.pkgid)}" name="${escapeAttr(pkg.name)}" arch="${escapeAttr(pkg.arch)}">\n`;
}

/** One filelists.xml `<package>` with every file of the record. */
export function filelistsPackageXml(pkg: PackageRecord): string {
  return `${packageOpenTag(pkg)}${versionElement("  ", pkg)}${fileElements("  ", pkg.files, false)}</package>\n`;
}

/** One other.xml `<package>` with the record's changelog entries, in record order. */
export function otherPackageXml(pkg: PackageRecord): string {
  let s = packageOpenTag(pkg) + versionElement("  ", pkg);
  for (const c of pkg.changelogs) {
    s += `  <changelog author="${escapeAttr(c.author)}" date="${c.date}">${escapeText(c.text)}</changelog>\n`;
  }
  return `${s}</package>\n`;
}

/** One `<data>` entry of repomd.xml. Sizes in bytes, timestamp in Unix seconds. */
export interface RepomdRecord {
  type: string;
  checksumType: string;
  /** Digest of the file as stored (compressed). */
  checksum: string;
  /** Digest of the uncompressed content; absent for uncompressed files. */
  openChecksum?: string;
  /** Relative to the repository root, e.g. `repodata/<sum>-primary.xml.gz`. */
  location: string;
  timestamp: number;
  size: number;
  openSize?: number;
  /** Only for `*_db` records. */
  databaseVersion?: number;
}

function repomdRecordXml(r: RepomdRecord): string {
  let s = `  <data type="${escapeAttr(r.type)}">\n`;
  s += `    <checksum type="${escapeAttr(r.checksumType)}">${escapeText(r.checksum)}</checksum>\n`;
  if (r.openChecksum !== undefined) {
    s += `    <open-checksum type="${escapeAttr(r.checksumType)}">${escapeText(r.openChecksum)}</open-checksum>\n`;
  }
  s += `    <location href="${escapeAttr(r.location)}"/>\n`;
  s += `    <timestamp>${r.timestamp}</timestamp>\n`;
  s += `    <size>${r.size}</size>\n`;
  if (r.openSize !== undefined) s += `    <open-size>${r.openSize}</open-size>\n`;
  if (r.databaseVersion !== undefined) {
    s += `    <database_version>${r.databaseVersion}</database_version>\n`;
  }
  return `${s}  </data>\n`;
}

/** repomd.xml with the records in the given order (createrepo_c: primary, filelists, other, …). */
export function repomdXml(revision: string, records: readonly RepomdRecord[]): string {
  let s = `${XML_DECL}<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="${RPM_NS}">\n`;
  s += textElement("  ", "revision", revision);
  for (const r of records) s += repomdRecordXml(r);
  return `${s}</repomd>\n`;
}
