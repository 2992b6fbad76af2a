import type { Logger } from "../api/deps.ts";
import type { Db } from "../db/client.ts";
import {
  advanceEventConsumer,
  claimEventConsumer,
  type EventWithCompose,
  ensureEventConsumer,
  failEventConsumer,
  findEventConsumer,
  lastEventId,
  listEventsAfter,
  releaseEventConsumer,
} from "../db/events.ts";

/** Events read and handed to a sink per round. */
export const DELIVERY_BATCH = 100;

/**
 * Where a durable consumer sends events. `deliver` sends `items` in order
 * and calls `confirm(id)` once everything up to event `id` is confirmed by
 * the receiver (the cursor moves only then); it throws on a failure, after
 * confirming what did go through. `confirm` answers false when this process
 * lost the lease: the sink must stop.
 */
export interface Sink {
  /** Unique, stable: the consumer's row in `event_consumers`. */
  readonly name: string;
  /** Events this sink does not want are skipped (the cursor moves past them). */
  accepts(item: EventWithCompose): boolean;
  deliver(
    items: EventWithCompose[],
    confirm: (id: number) => Promise<boolean>,
    signal: AbortSignal,
  ): Promise<void>;
  close?(): Promise<void>;
}

export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

export interface ConsumerDeps {
  db: Db;
  now: () => Date;
  log: Logger;
  /** This process, as it holds leases (`host:pid`). */
  owner: string;
  pollMs: number;
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Capped exponential backoff: base·2^(failures−1), at most `max`. */
export function retryDelayMs(failures: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/**
 * A durable consumer of the events table: reads events after its stored
 * cursor, hands them to its sink, moves the cursor after each confirmed
 * delivery. At least once, in event order; a crash between delivery and
 * the cursor update resends. Several processes run the same consumers; the
 * lease in `event_consumers` lets one of them deliver at a time.
 */
export class DurableConsumer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private started = false;
  /** Aborts deliveries in flight at stop(): a hanging receiver must not hold up shutdown. */
  private readonly abort = new AbortController();
  private again = false;

  constructor(
    private readonly deps: ConsumerDeps,
    readonly sink: Sink,
  ) {}

  /** Create the consumer's row if it is new (cursor at the newest event). */
  async register(): Promise<void> {
    await ensureEventConsumer(this.deps.db, this.sink.name, this.deps.now().getTime());
  }

  /** Register, then deliver on every poll (and `wake()`) until `stop()`. */
  async start(): Promise<void> {
    await this.register();
    this.started = true;
    this.schedule(0);
  }

  /** Look for new events now (e.g. after a state change in this process). */
  wake(): void {
    if (this.stopped || !this.started) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort(new Error("consumer stopped"));
    await this.running;
    await releaseEventConsumer(
      this.deps.db,
      this.sink.name,
      this.deps.owner,
      this.deps.now().getTime(),
    ).catch(() => {});
    await this.sink.close?.();
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .then(() => undefined)
        .catch((err) => this.deps.log.error("event delivery failed", errFields(this.sink, err)))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          const next = this.again ? 0 : this.deps.pollMs;
          this.again = false;
          this.schedule(next);
        });
    }, ms);
  }

  /**
   * Deliver everything pending, batch by batch, while this process holds
   * the lease. Returns the number of events the cursor moved past.
   */
  async drain(): Promise<number> {
    const { db, owner } = this.deps;
    const name = this.sink.name;
    // Reads first: an idle consumer costs two reads per poll, no write.
    const seen = await findEventConsumer(db, name);
    if (!seen) return 0;
    const nowMs = this.deps.now().getTime();
    if (seen.retryAt > nowMs) return 0;
    if (seen.leaseOwner && seen.leaseOwner !== owner && (seen.leaseUntil ?? 0) >= nowMs) return 0;
    if ((await lastEventId(db)) <= seen.cursor) return 0;
    let moved = 0;
    for (;;) {
      if (this.stopped) return moved;
      const now = this.deps.now().getTime();
      const claimed = await claimEventConsumer(db, name, owner, now, this.deps.leaseMs);
      if (!claimed) return moved;
      const batch = await listEventsAfter(db, claimed.cursor, DELIVERY_BATCH);
      if (batch.length === 0) return moved;
      const wanted = batch.filter((item) => this.sink.accepts(item));
      const confirm = async (id: number) =>
        advanceEventConsumer(db, name, owner, id, this.deps.now().getTime(), this.deps.leaseMs);
      try {
        if (wanted.length > 0) await this.sink.deliver(wanted, confirm, this.abort.signal);
        const last = batch[batch.length - 1]?.event.id ?? claimed.cursor;
        if (!(await confirm(last))) throw new LeaseLostError(`lease of ${name} lost`);
      } catch (err) {
        if (err instanceof LeaseLostError) {
          this.deps.log.warn("event delivery lease lost", { consumer: name });
          return moved;
        }
        if (this.stopped) {
          // Aborted by stop(): not the receiver's failure; the lease is released by stop().
          return moved;
        }
        const failures = claimed.attempts + 1;
        const delay = retryDelayMs(failures, this.deps.retryBaseMs, this.deps.retryMaxMs);
        const failedAt = this.deps.now().getTime();
        await failEventConsumer(db, name, owner, errText(err), failedAt, failedAt + delay);
        this.deps.log.warn("event delivery failed; will retry", {
          ...errFields(this.sink, err),
          attempts: failures,
          retry_in_ms: delay,
        });
        return moved;
      }
      moved += batch.length;
      if (batch.length < DELIVERY_BATCH) return moved;
    }
  }
}

function errText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

function errFields(sink: Sink, err: unknown) {
  return { consumer: sink.name, err: errText(err) };
}
