import type { Db } from "../db/client.ts";
import { lastEventId } from "../db/events.ts";

/**
 * Tells the streams of this process that new events were committed: one
 * cheap `max(id)` query per poll interval for all of them, and only while
 * someone listens. It reads the table, so it sees events written by a
 * worker on another host as well as by this process. `notify()` wakes the
 * streams at once (a state change committed in this process).
 */
export class EventFeed {
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = -1;

  constructor(
    private readonly db: Db,
    private readonly pollMs: number,
  ) {}

  /** Call `listener` whenever newer events may exist; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.timer && !this.closed) this.schedule();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** True after `close()`: streams end (shutdown). */
  closed = false;

  /** End every stream of this feed (they see `closed` when woken). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.notify();
  }

  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  get size(): number {
    return this.listeners.size;
  }

  private schedule() {
    this.timer = setTimeout(() => {
      lastEventId(this.db)
        .then((id) => {
          if (id !== this.last) {
            this.last = id;
            this.notify();
          }
        })
        .catch(() => {})
        .finally(() => {
          if (this.listeners.size > 0 && !this.closed) this.schedule();
          else this.timer = undefined;
        });
    }, this.pollMs);
  }
}
