import type { Db } from "../db/client.ts";
import { findComposeStates } from "../db/composes.ts";

/** Longest wait a client may ask for; a longer `timeout` is a 400. */
export const WAIT_MAX_SECONDS = 60;
export const WAIT_DEFAULT_SECONDS = 30;
/** Requests waiting at once per process; more get a 503 (each holds a socket and a timer). */
export const MAX_WAITERS = 1000;
/**
 * How often the states of all waited-for composes are read, in one query,
 * for changes made where no `notify` reaches (another process, the sweep).
 */
export const WAIT_POLL_MS = 500;

export class TooManyWaitersError extends Error {
  override name = "TooManyWaitersError";
}

interface Waiter {
  id: number;
  /** The state this waiter last saw; the poll wakes it when the stored one differs. */
  state: number;
  pending: boolean;
  wake: (() => void) | null;
  /** Ends the wait: the request answers the compose as it is. */
  end: () => void;
}

/**
 * Bounded long-polling on compose state. A waiting request sleeps until its
 * compose may have changed: at once when the change happened in this
 * process (`notify`, called after the commit), otherwise when the shared
 * poll — one query for every waited-for compose, only while someone waits —
 * sees a different state. Timers only; no clock is read, so it runs
 * wherever `setTimeout` does.
 */
export class ComposeWaits {
  readonly #byCompose = new Map<number, Set<Waiter>>();
  #count = 0;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #polling = false;
  #ended = false;

  constructor(
    private readonly db: Db,
    private readonly opts: { maxWaiters: number; pollMs: number } = {
      maxWaiters: MAX_WAITERS,
      pollMs: WAIT_POLL_MS,
    },
  ) {}

  /** Requests waiting right now. */
  get waiting(): number {
    return this.#count;
  }

  /** The state of compose `id` may have changed (committed): wake its waiters. */
  notify(id: number): void {
    for (const w of this.#byCompose.get(id) ?? []) this.#wake(w);
  }

  /**
   * Reads the compose's state with `readState` until `settled` holds for it
   * (`undefined`: no such compose, which settles too), `timeoutMs` has passed
   * or `signal` aborts. Throws TooManyWaitersError when the limit is
   * reached (nothing read then).
   */
  async waitFor(
    id: number,
    readState: () => Promise<number | undefined>,
    settled: (state: number) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#count >= this.opts.maxWaiters)
      throw new TooManyWaitersError(
        `${this.#count} requests are already waiting, the most this server allows`,
      );
    let over = this.#ended;
    const w: Waiter = { id, state: -1, pending: false, wake: null, end: () => stop() };
    const stop = () => {
      over = true;
      this.#wake(w);
    };
    const timer = setTimeout(stop, timeoutMs);
    signal?.addEventListener("abort", stop);
    this.#add(w);
    try {
      // Registered before the first read, so a change committed meanwhile is not missed.
      for (;;) {
        const state = await readState();
        if (state === undefined || settled(state) || over) return;
        w.state = state;
        await this.#sleep(w);
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      this.#remove(w);
    }
  }

  /**
   * Shutting down: every wait ends now, answering its compose as it is (as
   * at its timeout), and later ones answer at once.
   */
  endAll(): void {
    this.#ended = true;
    for (const set of this.#byCompose.values()) for (const w of set) w.end();
  }

  #sleep(w: Waiter): Promise<void> {
    if (w.pending) {
      w.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      w.wake = resolve;
    });
  }

  #wake(w: Waiter): void {
    const wake = w.wake;
    w.wake = null;
    if (wake) wake();
    else w.pending = true;
  }

  #add(w: Waiter): void {
    this.#count++;
    const set = this.#byCompose.get(w.id) ?? new Set();
    set.add(w);
    this.#byCompose.set(w.id, set);
    this.#schedulePoll();
  }

  #remove(w: Waiter): void {
    this.#count--;
    const set = this.#byCompose.get(w.id);
    set?.delete(w);
    if (set?.size === 0) this.#byCompose.delete(w.id);
    if (this.#count === 0 && this.#poll !== undefined) {
      clearTimeout(this.#poll);
      this.#poll = undefined;
    }
  }

  /** At most one poll pending or running, and none while nobody waits. */
  #schedulePoll(): void {
    if (this.#poll !== undefined || this.#polling || this.#count === 0) return;
    this.#poll = setTimeout(() => {
      this.#poll = undefined;
      void this.#tick();
    }, this.opts.pollMs);
  }

  async #tick(): Promise<void> {
    this.#polling = true;
    try {
      const states = await findComposeStates(this.db, [...this.#byCompose.keys()]);
      for (const [id, state] of states)
        for (const w of this.#byCompose.get(id) ?? []) if (w.state !== state) this.#wake(w);
    } catch {
      // A failed poll is retried at the next tick; each waiter still ends at its timeout.
    } finally {
      this.#polling = false;
      this.#schedulePoll();
    }
  }
}
