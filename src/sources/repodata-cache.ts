import { sha256Hex } from "../rpm/decompress.ts";
import { estimateRepodataBytes } from "../rpm/record-size.ts";
import type { Repodata } from "../rpm/repodata-read.ts";

/**
 * Parsed source metadata kept across composes in one worker process, keyed by
 * origin and revalidated by the sha256 of its repomd.xml (the only file read
 * when nothing changed). Least recently used entries go when the estimated
 * size (`estimateRepodataBytes`) passes the budget. Concurrent loads of one
 * source share one parse; a failed load (unreadable, or a file that fails
 * its checksum) leaves nothing behind.
 */
export class RepodataCache {
  #entries = new Map<string, { checksum: string; data: Promise<Repodata>; bytes: number }>();
  constructor(private readonly budgetBytes: number) {}

  async get(origin: string, repomd: Uint8Array, load: () => Promise<Repodata>): Promise<Repodata> {
    const checksum = sha256Hex(repomd);
    const hit = this.#entries.get(origin);
    if (hit && hit.checksum === checksum) {
      this.#entries.delete(origin);
      this.#entries.set(origin, hit);
      return hit.data;
    }
    const entry = { checksum, data: load(), bytes: 0 };
    this.#entries.delete(origin);
    this.#entries.set(origin, entry);
    try {
      const data = await entry.data;
      entry.bytes = estimateRepodataBytes(data);
      this.#evict();
      return data;
    } catch (err) {
      if (this.#entries.get(origin) === entry) this.#entries.delete(origin);
      throw err;
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  #evict(): void {
    let total = 0;
    for (const e of this.#entries.values()) total += e.bytes;
    for (const [key, e] of this.#entries) {
      if (total <= this.budgetBytes || this.#entries.size <= 1) break;
      this.#entries.delete(key);
      total -= e.bytes;
    }
  }
}
