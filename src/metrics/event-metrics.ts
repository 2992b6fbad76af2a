import type { Logger } from "../api/deps.ts";
import type { Db } from "../db/client.ts";
import { lastEventId, listEventFactsAfter } from "../db/events.ts";
import { failureClass } from "../domain/failure-class.ts";
import { COMPOSE_STATES, sourceTypeName, stateName } from "../domain/states.ts";
import type { ServerMetrics } from "./registry.ts";

/**
 * Feeds the event-driven metrics (queue time, generation time, failures,
 * state changes) from the events table, so they count every compose
 * whichever host's worker ran it. Starts at the newest event: counts are
 * from this process's start, as Prometheus counters are.
 */
/** Events read at a time: each batch is read and counted without a break. */
const BATCH = 100;

export class EventMetrics {
  private cursor = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly metrics: ServerMetrics,
    private readonly opts: { pollMs: number; log: Logger },
  ) {}

  async start(): Promise<void> {
    this.cursor = await lastEventId(this.db);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Observe every event after the cursor; returns how many. */
  async catchUp(): Promise<number> {
    let seen = 0;
    for (;;) {
      const batch = await listEventFactsAfter(this.db, this.cursor, BATCH);
      for (const event of batch) {
        const type = sourceTypeName(event.sourceType);
        const to = event.toState;
        this.metrics.stateChanges.inc({ state: stateName(to) });
        if (to === COMPOSE_STATES.generating) {
          this.metrics.queueSeconds.observe(
            { source_type: type },
            Math.max(0, event.at - event.timeSubmitted) / 1000,
          );
        }
        if ((to === COMPOSE_STATES.done || to === COMPOSE_STATES.failed) && event.timeStarted) {
          if (event.fromState === COMPOSE_STATES.generating)
            this.metrics.generationSeconds.observe(
              { source_type: type, state: stateName(to) },
              Math.max(0, event.at - event.timeStarted) / 1000,
            );
        }
        if (to === COMPOSE_STATES.failed)
          this.metrics.failures.inc({ reason_class: failureClass(event.stateReason) });
        this.cursor = event.id;
      }
      seen += batch.length;
      if (batch.length < BATCH) return seen;
      // The requests that came meanwhile are answered before the next batch.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.catchUp()
        .then(() => undefined)
        .catch((err) => this.opts.log.warn("event metrics", { err: String(err) }))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.opts.pollMs);
  }
}
