/**
 * Serialised list pages, each kept with the number of writes to `composes`
 * it was read under (`compose_counts` ('writes', ''), bumped by a trigger on
 * every insert, update and delete: migrations/0005). While that number
 * stays, the page's bytes are the same, so a poller listing by label, owner
 * or state is answered without reading a row or building JSON again. The
 * number is read before the page (a write in between leaves an entry that
 * no later request matches). Bounded by entries and bytes; least recently
 * used go first.
 */
export interface CachedPage {
  body: string;
  etag: string;
}

interface Entry extends CachedPage {
  writes: number;
}

export class ListPageCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 512,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** The page stored under `key` if it was read under `writes`. */
  get(key: string, writes: number): CachedPage | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.writes !== writes) {
      this.drop(key, e);
      return undefined;
    }
    // Most recently used last: re-insert.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  set(key: string, writes: number, page: CachedPage): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    // A page larger than a quarter of the budget would flush the rest for one URL.
    if (page.body.length > this.maxBytes / 4) return;
    this.entries.set(key, { ...page, writes });
    this.bytes += page.body.length;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.drop(k, e);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.body.length;
  }
}
