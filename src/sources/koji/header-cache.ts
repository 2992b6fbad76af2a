/**
 * A persistent cache of RPM headers from Koji, keyed by RPM id and sigkey:
 * an RPM in Koji never changes (a new build is a new id), and each signed
 * copy is a fixed file, so an entry never goes stale. On disk each entry is
 * the file's first bytes up to the end of its main header (what depsolving
 * needs) and, once the whole file was read, its size and sha256; in memory,
 * the parsed record, so the composes of a long-running worker parse each
 * header once.
 *
 * Writes go to a temporary name and are renamed into place, so concurrent
 * workers sharing the directory see a whole entry or none.
 */

import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isDiskFull } from "../errors.ts";

/** Entries kept parsed in memory (records of ~1–3 KB each, so at most a few hundred MB); the oldest go first. */
export const HEADER_MEMORY_ENTRIES = 100_000;

/** What the cache knows of one RPM file once it has been read whole. */
export interface RpmFileFacts {
  size: number;
  sha256: string;
}

/** An entry's on-disk name: spread over 256 directories by id. */
function entryPath(dir: string, rpmId: number, sigkey: string, ext: string): string {
  return join(dir, String(rpmId % 256).padStart(3, "0"), `${rpmId}.${sigkey || "-"}.${ext}`);
}

/**
 * Best effort on a full disk: an entry that does not fit is not kept (the
 * cache only saves work; ODCS_CACHE_DIR filling up must not fail composes).
 */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    try {
      await writeFile(tmp, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    await rm(tmp, { force: true });
  }
}

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export class KojiHeaderCache<T> {
  private readonly memory = new Map<string, T>();

  constructor(
    readonly dir: string,
    private readonly maxMemoryEntries = HEADER_MEMORY_ENTRIES,
  ) {}

  /** The parsed entry held in memory, if any. */
  remembered(rpmId: number, sigkey: string): T | undefined {
    return this.memory.get(`${rpmId}/${sigkey}`);
  }

  remember(rpmId: number, sigkey: string, value: T): void {
    const key = `${rpmId}/${sigkey}`;
    this.memory.delete(key);
    this.memory.set(key, value);
    if (this.memory.size > this.maxMemoryEntries) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
  }

  /** The header bytes stored for this copy, `undefined` when not cached. */
  readHeader(rpmId: number, sigkey: string): Promise<Buffer | undefined> {
    return readOrUndefined(entryPath(this.dir, rpmId, sigkey, "hdr"));
  }

  writeHeader(rpmId: number, sigkey: string, bytes: Uint8Array): Promise<void> {
    return writeAtomically(entryPath(this.dir, rpmId, sigkey, "hdr"), bytes);
  }

  async readFacts(rpmId: number, sigkey: string): Promise<RpmFileFacts | undefined> {
    const text = (await readOrUndefined(entryPath(this.dir, rpmId, sigkey, "sum")))?.toString(
      "utf8",
    );
    const m = text?.match(/^(\d+) ([0-9a-f]{64})\n$/);
    return m ? { size: Number(m[1]), sha256: m[2] ?? "" } : undefined;
  }

  /**
   * Where a downloaded copy is kept, to be hardlinked into later composes
   * (an RPM file in Koji never changes). Any of these may be deleted at any
   * time: the next compose that needs it downloads it again.
   */
  rpmPath(rpmId: number, sigkey: string): string {
    return entryPath(this.dir, rpmId, sigkey, "rpm");
  }

  writeFacts(rpmId: number, sigkey: string, facts: RpmFileFacts): Promise<void> {
    return writeAtomically(
      entryPath(this.dir, rpmId, sigkey, "sum"),
      `${facts.size} ${facts.sha256}\n`,
    );
  }
}

const shared = new Map<string, KojiHeaderCache<unknown>>();

/** The process's cache over `dir` (one per directory, so its memory part is shared by every compose). */
export function sharedHeaderCache<T>(dir: string): KojiHeaderCache<T> {
  let c = shared.get(dir);
  if (!c) {
    c = new KojiHeaderCache<unknown>(dir);
    shared.set(dir, c);
  }
  return c as KojiHeaderCache<T>;
}
