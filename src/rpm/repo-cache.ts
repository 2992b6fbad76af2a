/**
 * A per-process LRU of parsed repositories keyed by repomd.xml checksum, so
 * a source is parsed (and indexed) once however many composes use it.
 * Revalidation is one small read: fetch repomd.xml, hash it, and reuse the
 * cached entry when the hash is unchanged. Entries are evicted least
 * recently used first once the estimated size passes the byte budget (the
 * most recent entry is always kept, even if larger than the budget).
 */
import { sha256Hex } from "./decompress.ts";
import { estimateRecordBytes } from "./repo-index.ts";
import type { ReadFile, ReadRepodataOptions, Repodata } from "./repodata-read.ts";
import { REPOMD_PATH, readRepodataWithRepomd } from "./repodata-read.ts";

/** Default budget: 1 GiB of parsed metadata per worker process. */
export const DEFAULT_REPO_CACHE_BYTES = 1024 * 1024 * 1024;

interface Entry {
  repo: Repodata;
  bytes: number;
}

export class RepodataCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly budgetBytes: number = DEFAULT_REPO_CACHE_BYTES) {}

  /** Estimated bytes held. */
  get sizeBytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The repository behind `read`, parsed at most once per repomd checksum
   * and option set. Loading filelists/other is part of the key, since a
   * primary-only entry cannot answer a filelists request.
   */
  async load(read: ReadFile, opts: ReadRepodataOptions = {}): Promise<Repodata> {
    const repomd = await read(REPOMD_PATH);
    const key = `${sha256Hex(repomd)}:${opts.filelists ? "f" : ""}${opts.other ? "o" : ""}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.repo;
    }
    const repo = await readRepodataWithRepomd(read, repomd, opts);
    const bytes = repo.packages.reduce((n, p) => n + estimateRecordBytes(p), 0);
    this.entries.set(key, { repo, bytes });
    this.total += bytes;
    this.evict(key);
    return repo;
  }

  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.budgetBytes) return;
      if (key === keep) continue;
      this.entries.delete(key);
      this.total -= entry.bytes;
    }
  }
}
