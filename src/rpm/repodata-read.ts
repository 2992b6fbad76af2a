/**
 * Reading a yum repository's metadata (repomd.xml → primary, and optionally
 * filelists and other) into `PackageRecord`s. Pure: every byte comes through
 * the `ReadFile` callback, so the same code reads local trees, HTTP mirrors
 * and test fixtures.
 */
import { decompress, sha256Hex } from "./decompress.ts";
import type { Repomd, RepomdData } from "./repodata-parse.ts";
import { parseFilelists, parseOther, parsePrimary, parseRepomd } from "./repodata-parse.ts";
import type { PackageRecord } from "./types.ts";

/** Reads a file by path relative to the repository root, e.g. `repodata/repomd.xml`. */
export type ReadFile = (relPath: string) => Promise<Uint8Array>;

export interface Repodata {
  /** sha256 hex of the repomd.xml bytes: the cache key of everything below. */
  repomdChecksum: string;
  /** `<revision>` of repomd.xml, `""` when absent. */
  revision: string;
  /** Binary and source packages, in primary.xml order (duplicates kept). */
  packages: PackageRecord[];
}

export interface ReadRepodataOptions {
  /** Load filelists.xml: full file lists, `hasFullFilelist` true. */
  filelists?: boolean;
  /** Load other.xml: changelogs. */
  other?: boolean;
}

export const REPOMD_PATH = "repodata/repomd.xml";

const utf8 = new TextDecoder("utf-8");

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
  const repomdBytes = await read(REPOMD_PATH);
  return readRepodataWithRepomd(read, repomdBytes, opts);
}

/** As `readRepodata`, with repomd.xml already fetched (e.g. to check a cache first). */
export async function readRepodataWithRepomd(
  read: ReadFile,
  repomdBytes: Uint8Array,
  opts: ReadRepodataOptions = {},
): Promise<Repodata> {
  const repomd = parseRepomd(utf8.decode(repomdBytes));
  const primaryEntry = findData(repomd, "primary");
  if (!primaryEntry) throw new Error("repomd.xml lists no primary metadata");
  const filelistsEntry = opts.filelists ? findData(repomd, "filelists") : undefined;
  const otherEntry = opts.other ? findData(repomd, "other") : undefined;
  const [primaryText, filelistsText, otherText] = await Promise.all([
    readXml(read, primaryEntry),
    filelistsEntry ? readXml(read, filelistsEntry) : undefined,
    otherEntry ? readXml(read, otherEntry) : undefined,
  ]);
  const packages = parsePrimary(primaryText);
  if (filelistsText !== undefined || otherText !== undefined) {
    const byPkgid = groupByPkgid(packages);
    if (filelistsText !== undefined) {
      parseFilelists(filelistsText, (extra) => {
        for (const p of byPkgid.get(extra.pkgid) ?? []) {
          p.files = extra.items;
          p.hasFullFilelist = true;
        }
      });
    }
    if (otherText !== undefined) {
      parseOther(otherText, (extra) => {
        for (const p of byPkgid.get(extra.pkgid) ?? []) p.changelogs = extra.items;
      });
    }
  }
  return { repomdChecksum: sha256Hex(repomdBytes), revision: repomd.revision, packages };
}

function findData(repomd: Repomd, type: string): RepomdData | undefined {
  return repomd.data.find((d) => d.type === type);
}

async function readXml(read: ReadFile, entry: RepomdData): Promise<string> {
  if (entry.locationBase) {
    throw new Error(
      `${entry.type} metadata has xml:base ${entry.locationBase}; remote bases are not supported`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await read(entry.location);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read ${entry.type} metadata ${entry.location}: ${why}`);
  }
  return utf8.decode(await decompress(bytes, entry.location));
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
