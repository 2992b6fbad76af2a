import type { RpmHeader } from "./header.ts";
import { primaryDeps } from "./primary-deps.ts";
import type { PackageRecord } from "./types.ts";

/** What only the file (not its header) knows. */
export interface RpmFileFacts {
  /** Digest of the whole .rpm file. */
  pkgid: string;
  /** sha256 (default), sha1, sha512, md5 … */
  checksumType?: string;
  sizePackage: number;
  /** Unix seconds of the file's mtime (createrepo_c `time file`); defaults to 0. */
  timeFile?: number;
  location: string;
  locationBase?: string;
}

/**
 * The record createrepo_c would write for this package (primary and
 * filelists; changelogs are not read from headers, so `changelogs` is empty).
 * Source RPMs get arch `src`; a missing epoch becomes `"0"`.
 */
export function headerToRecord(h: RpmHeader, file: RpmFileFacts): PackageRecord {
  const record: PackageRecord = {
    name: h.name,
    arch: h.isSource ? "src" : h.arch,
    epoch: String(h.epoch ?? 0),
    version: h.version,
    release: h.release,
    pkgid: file.pkgid,
    checksumType: file.checksumType ?? "sha256",
    summary: h.summary,
    description: h.description,
    packager: h.packager,
    url: h.url,
    timeFile: file.timeFile ?? 0,
    timeBuild: h.buildTime,
    sizePackage: file.sizePackage,
    sizeInstalled: h.installedSize,
    sizeArchive: h.archiveSize,
    location: file.location,
    license: h.license,
    vendor: h.vendor,
    group: h.group,
    buildhost: h.buildhost,
    sourcerpm: h.sourcerpm,
    headerStart: h.headerStart,
    headerEnd: h.headerEnd,
    ...primaryDeps(h),
    files: h.files.map((f) => ({ path: f.path, type: f.type })),
    hasFullFilelist: true,
    changelogs: [],
    sigkey: h.sigkey,
  };
  if (file.locationBase !== undefined) record.locationBase = file.locationBase;
  return record;
}
