import { sha256Hex } from "../rpm/decompress.ts";
import { estimateRepodataBytes } from "../rpm/record-size.ts";
import type { Repodata } from "../rpm/repodata-read.ts";

interface Entry {
  data: Promise<Repodata>;
  bytes: number;
}

/**
 * Parsed source metadata kept across composes in one worker process, keyed
 * by the sha256 of repomd.xml (the only file read when nothing changed):
 * repomd names every metadata file by checksum and each is verified as it
 * streams, so equal repomd bytes mean equal records, whichever origin (path
 * or mirror) served them. When an origin's repomd changes, the entry it had
 * goes unless another origin still has it. Least recently used entries go
 * when the estimated size (`estimateRepodataBytes`) passes the budget, so
 * the parsed entries held never add up to more than it: one larger than
 * the whole budget is handed to its caller and not kept. Concurrent loads
 * of one repomd share one parse; a failed load (unreadable, or a file that
 * fails its checksum) leaves nothing behind. An origin whose entry is gone
 * is forgotten too, so nothing grows with the number of origins seen.
 */
export class RepodataCache {
  #entries = new Map<string, Entry>();
  /** The repomd checksum each origin had when last asked for. */
  #origins = new Map<string, string>();
  constructor(private readonly budgetBytes: number) {}

  async get(origin: string, repomd: Uint8Array, load: () => Promise<Repodata>): Promise<Repodata> {
    const checksum = sha256Hex(repomd);
    const before = this.#origins.get(origin);
    this.#origins.set(origin, checksum);
    if (before !== undefined && before !== checksum && !this.#isCurrent(before)) this.#drop(before);
    const hit = this.#entries.get(checksum);
    if (hit) {
      this.#entries.delete(checksum);
      this.#entries.set(checksum, hit);
      return hit.data;
    }
    const entry: Entry = { data: load(), bytes: 0 };
    this.#entries.set(checksum, entry);
    try {
      const data = await entry.data;
      entry.bytes = estimateRepodataBytes(data);
      this.#evict();
      return data;
    } catch (err) {
      if (this.#entries.get(checksum) === entry) this.#drop(checksum);
      throw err;
    }
  }

  /** Entries held or being loaded. */
  get size(): number {
    return this.#entries.size;
  }

  /** Estimated bytes of the parsed entries held (loads in flight count 0). */
  get bytes(): number {
    let total = 0;
    for (const e of this.#entries.values()) total += e.bytes;
    return total;
  }

  /** Origins remembered (each with the repomd checksum it last had). */
  get origins(): number {
    return this.#origins.size;
  }

  #isCurrent(checksum: string): boolean {
    for (const c of this.#origins.values()) if (c === checksum) return true;
    return false;
  }

  #evict(): void {
    let total = this.bytes;
    for (const [key, e] of this.#entries) {
      if (total <= this.budgetBytes) break;
      if (e.bytes === 0) continue; // still loading: counted once parsed
      this.#drop(key);
      total -= e.bytes;
    }
  }

  /** Forget `checksum`'s entry and the origins that had it. */
  #drop(checksum: string): void {
    this.#entries.delete(checksum);
    for (const [origin, c] of this.#origins) if (c === checksum) this.#origins.delete(origin);
  }
}
