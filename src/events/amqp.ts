import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { Logger } from "../api/deps.ts";
import type { EventWithCompose } from "../db/events.ts";
import { stateChangedMessage } from "../domain/event-message.ts";
import type { ViewSettings } from "../domain/json-view.ts";
import type { Sink } from "./consumer.ts";

/** Bound for connecting and for the broker's confirms of one batch. */
export const AMQP_TIMEOUT_MS = 10_000;

export interface AmqpSettings {
  url: string;
  exchange: string;
  topic: string;
}

/**
 * Publishes each event as a persistent message (`{"event": "state-changed",
 * "compose": …}` as JSON text, routing key ODCS_AMQP_TOPIC) on a confirm
 * channel; the batch counts as delivered once the broker confirmed every
 * message. A lost connection is dropped and opened again on the next round
 * (the consumer's capped backoff spaces the attempts), so a broker that is
 * down only delays messages.
 */
export class AmqpSink implements Sink {
  readonly name = "amqp";
  private conn: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;

  constructor(
    private readonly settings: AmqpSettings,
    private readonly opts: { view: ViewSettings; log: Logger },
  ) {}

  accepts(): boolean {
    return true;
  }

  private async open(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const conn = await amqp.connect(this.settings.url, { timeout: AMQP_TIMEOUT_MS });
    const drop = () => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.channel = undefined;
      }
    };
    conn.on("error", (err: Error) =>
      this.opts.log.warn("amqp connection error", { err: err.message }),
    );
    conn.on("close", drop);
    try {
      const ch = await conn.createConfirmChannel();
      ch.on("error", (err: Error) =>
        this.opts.log.warn("amqp channel error", { err: err.message }),
      );
      ch.on("close", drop);
      // The amq.* exchanges always exist (and may not be declared); others are declared durable.
      if (!this.settings.exchange.startsWith("amq."))
        await ch.assertExchange(this.settings.exchange, "topic", { durable: true });
      this.conn = conn;
      this.channel = ch;
      this.opts.log.info("amqp connected", { exchange: this.settings.exchange });
      return ch;
    } catch (err) {
      await conn.close().catch(() => {});
      throw err;
    }
  }

  async deliver(
    items: EventWithCompose[],
    confirm: (id: number) => Promise<boolean>,
    stop: AbortSignal,
  ) {
    const ch = await this.open();
    try {
      for (const { event, compose } of items) {
        const body = JSON.stringify(stateChangedMessage(event, compose, this.opts.view));
        ch.publish(this.settings.exchange, this.settings.topic, Buffer.from(body), {
          persistent: true,
          contentType: "application/json",
          messageId: String(event.id),
          timestamp: Math.floor(event.at / 1000),
          type: "state-changed",
        });
      }
      await withTimeout(ch.waitForConfirms(), AMQP_TIMEOUT_MS, "broker confirms", stop);
    } catch (err) {
      await this.close();
      throw err;
    }
    const last = items[items.length - 1];
    if (last) await confirm(last.event.id);
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.channel = undefined;
    await conn?.close().catch(() => {});
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, stop: AbortSignal): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onStop = () => {};
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    onStop = () => reject(new Error(`stopped while waiting for ${what}`));
    stop.addEventListener("abort", onStop, { once: true });
  });
  return Promise.race([p, t]).finally(() => {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
  });
}
