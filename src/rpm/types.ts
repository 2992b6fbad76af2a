/**
 * The records the RPM engine holds for one package, as read from repodata
 * (primary + filelists + other) or from an RPM header. Everything a compose
 * needs — selection, depsolving, materialising and writing repodata — works
 * from these records and never reopens an RPM file.
 *
 * This file is the contract between the metadata reader, the depsolver, the
 * repodata writer and the worker pipeline. Add optional fields freely; change
 * existing ones only together with every user.
 */

export const DEP_FLAGS = ["EQ", "LT", "GT", "LE", "GE"] as const;
export type DepFlag = (typeof DEP_FLAGS)[number];

/** The dependency lists of a package, in createrepo_c's primary.xml order. */
export const DEP_KINDS = [
  "provides",
  "requires",
  "conflicts",
  "obsoletes",
  "suggests",
  "enhances",
  "recommends",
  "supplements",
] as const;
export type DepKind = (typeof DEP_KINDS)[number];

/** Eight empty dependency lists, one per kind, for building records. */
export function emptyDepLists(): Record<DepKind, Dep[]> {
  return {
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    suggests: [],
    enhances: [],
    recommends: [],
    supplements: [],
  };
}

/** One `<rpm:entry>`: a provide/require/… with an optional version constraint. */
export interface Dep {
  name: string;
  flags?: DepFlag;
  /** As written in the metadata; `undefined` when absent. */
  epoch?: string;
  ver?: string;
  rel?: string;
  /** `pre="1"` on requires (pre/post/pretrans/posttrans script deps). */
  pre?: boolean;
}

export type FileType = "file" | "dir" | "ghost";

export interface FileEntry {
  path: string;
  type: FileType;
}

export interface Changelog {
  author: string;
  /** Unix seconds. */
  date: number;
  text: string;
}

export interface Evr {
  epoch: string;
  version: string;
  release: string;
}

export interface PackageRecord extends Evr {
  name: string;
  arch: string;
  /** Digest of the whole .rpm file (the repodata `pkgid`). */
  pkgid: string;
  /** Digest algorithm of `pkgid`: sha256, sha1, sha512, md5 … */
  checksumType: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  /** Unix seconds. */
  timeFile: number;
  timeBuild: number;
  sizePackage: number;
  sizeInstalled: number;
  sizeArchive: number;
  /** `location href`, relative to the repository root (or to `locationBase`). */
  location: string;
  /** `location xml:base`, when the metadata sets one. */
  locationBase?: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  /** Source RPM file name; `""` for source packages. */
  sourcerpm: string;
  headerStart: number;
  headerEnd: number;
  provides: Dep[];
  requires: Dep[];
  conflicts: Dep[];
  obsoletes: Dep[];
  suggests: Dep[];
  enhances: Dep[];
  recommends: Dep[];
  supplements: Dep[];
  /**
   * Every file of the package (filelists). When only primary was loaded this
   * holds the primary subset and `hasFullFilelist` is false.
   */
  files: FileEntry[];
  hasFullFilelist: boolean;
  /** From other.xml; empty when other.xml was not loaded. */
  changelogs: Changelog[];
  /** Lower-case 8-hex key id of the signature, `null` unsigned, `undefined` unknown. */
  sigkey?: string | null;
}
