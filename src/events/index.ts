import type { Logger } from "../api/deps.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { AmqpSink } from "./amqp.ts";
import { DurableConsumer, type Sink } from "./consumer.ts";
import { WebhookSink } from "./webhook.ts";

/** The durable sinks the configuration asks for: AMQP when ODCS_AMQP_URL is set, one per webhook. */
export function configuredSinks(config: Config, log: Logger, now: () => Date): Sink[] {
  const sinks: Sink[] = [];
  if (config.ODCS_AMQP_URL)
    sinks.push(
      new AmqpSink(
        {
          url: config.ODCS_AMQP_URL,
          exchange: config.ODCS_AMQP_EXCHANGE,
          topic: config.ODCS_AMQP_TOPIC,
        },
        { view: config, log },
      ),
    );
  for (const hook of config.ODCS_WEBHOOKS)
    sinks.push(
      new WebhookSink(hook, { view: config, timeoutMs: config.ODCS_WEBHOOK_TIMEOUT_MS, now }),
    );
  return sinks;
}

export interface EventConsumers {
  consumers: DurableConsumer[];
  /** New events may exist (a state change committed in this process). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Start the durable consumers (AMQP publisher, webhooks) of this server
 * process. Each runs on its own: a slow or dead receiver delays only its
 * own events, never a compose (nothing on the write path waits for them)
 * or another receiver.
 */
export async function startEventConsumers(deps: {
  db: Db;
  config: Config;
  log: Logger;
  now: () => Date;
  owner: string;
}): Promise<EventConsumers> {
  const { config } = deps;
  const consumers = configuredSinks(config, deps.log, deps.now).map(
    (sink) =>
      new DurableConsumer(
        {
          db: deps.db,
          now: deps.now,
          log: deps.log,
          owner: deps.owner,
          pollMs: config.ODCS_EVENTS_POLL_MS,
          leaseMs: config.ODCS_EVENTS_LEASE_MS,
          retryBaseMs: config.ODCS_EVENTS_RETRY_BASE_MS,
          retryMaxMs: config.ODCS_EVENTS_RETRY_MAX_MS,
        },
        sink,
      ),
  );
  for (const c of consumers) await c.start();
  return {
    consumers,
    wake: () => {
      for (const c of consumers) c.wake();
    },
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}
