/**
 * Webhooks through the durable consumer, in process: a fake clock drives
 * the backoff, `drain()` is one delivery round (what the poll timer runs).
 * The receiver is a real HTTP server that verifies the signature.
 */
import { asc } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { WebhookConfig } from "../../src/config.ts";
import { findEventConsumer, listEventsAfter } from "../../src/db/events.ts";
import { events } from "../../src/db/schema.ts";
import { stateChangedMessage } from "../../src/domain/event-message.ts";
import { DurableConsumer } from "../../src/events/consumer.ts";
import { WebhookSink, webhookSignature } from "../../src/events/webhook.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";
import { webhookReceiver } from "../helpers/webhook-receiver.ts";

const SECRET = "s3cret-for-tests";
const BASE_MS = 1000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup(hookOverrides: Partial<WebhookConfig> = {}, timeoutMs = 5000) {
  const h = await composeHarness();
  const rx = await webhookReceiver(SECRET);
  closers.push(rx.close, h.stopAll);
  const consumerFor = (hook: WebhookConfig, owner = "p1", timeout = timeoutMs) =>
    new DurableConsumer(
      {
        db: h.db,
        now: () => h.clock.now(),
        log: silentLogger,
        owner,
        pollMs: 50,
        leaseMs: 30_000,
        retryBaseMs: BASE_MS,
        retryMaxMs: 8 * BASE_MS,
      },
      new WebhookSink(hook, { view: h.config, timeoutMs: timeout, now: () => h.clock.now() }),
    );
  const hook: WebhookConfig = { url: rx.url, secret: SECRET, ...hookOverrides };
  const consumer = consumerFor(hook);
  await consumer.register();
  const compose = () =>
    h.run({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } });
  const allEvents = () => h.db.select().from(events).orderBy(asc(events.id));
  return { h, rx, consumer, consumerFor, hook, compose, allEvents };
}

describe("webhook delivery", () => {
  it("POSTs each event in order, signed, with its id and a timestamp; the receiver verifies it", async () => {
    const { h, rx, consumer, compose, allEvents } = await setup();
    const row = await compose();
    expect(await consumer.drain()).toBe(3);
    const evs = await allEvents();
    expect(rx.received.map((r) => r.eventId)).toEqual(evs.map((e) => String(e.id)));
    expect(rx.received.map((r) => r.body.compose.state_name)).toEqual([
      "wait",
      "generating",
      "done",
    ]);
    for (const r of rx.received) {
      expect(r.signatureValid).toBe(true);
      expect(r.signature).toBe(webhookSignature(SECRET, r.raw));
      expect(r.contentType).toBe("application/json");
      expect(r.timestamp).toBe(String(Math.floor(h.clock.now().getTime() / 1000)));
      expect(r.body.event).toBe("state-changed");
    }
    // The body is the message of §15 for that event, byte for byte.
    const items = await listEventsAfter(h.db, 0, 10);
    expect(rx.received.map((r) => r.raw)).toEqual(
      items.map((i) => JSON.stringify(stateChangedMessage(i.event, i.compose, h.config))),
    );
    expect(rx.received[2]?.body.compose.id).toBe(row.id);
    expect((await findEventConsumer(h.db, consumer.sink.name))?.cursor).toBe(evs[2]?.id);
    // Nothing new: nothing sent.
    expect(await consumer.drain()).toBe(0);
    expect(rx.received).toHaveLength(3);
  });

  it("a failing receiver: the cursor stays, retries back off exponentially, then everything arrives in order", async () => {
    const { h, rx, consumer, compose, allEvents } = await setup();
    await compose();
    rx.setMode("fail");
    expect(await consumer.drain()).toBe(0);
    let row = await findEventConsumer(h.db, consumer.sink.name);
    expect(row).toMatchObject({ attempts: 1, cursor: 0, leaseOwner: null });
    expect(row?.retryAt).toBe(h.clock.now().getTime() + BASE_MS);
    expect(row?.lastError).toMatch(/answered 503 to event 1/);
    // Not due yet: no request.
    expect(await consumer.drain()).toBe(0);
    expect(rx.received).toHaveLength(1);
    h.clock.advance(BASE_MS);
    expect(await consumer.drain()).toBe(0);
    row = await findEventConsumer(h.db, consumer.sink.name);
    expect(row?.attempts).toBe(2);
    expect(row?.retryAt).toBe(h.clock.now().getTime() + 2 * BASE_MS);
    h.clock.advance(BASE_MS);
    expect(await consumer.drain()).toBe(0);
    expect(rx.received).toHaveLength(2);
    h.clock.advance(BASE_MS);
    rx.setMode("ok");
    expect(await consumer.drain()).toBe(3);
    const evs = await allEvents();
    expect(rx.accepted().map((r) => r.eventId)).toEqual(evs.map((e) => String(e.id)));
    // Event 1 was tried three times with the same id (receivers de-duplicate on it).
    expect(rx.received.map((r) => r.eventId)).toEqual(["1", "1", "1", "2", "3"]);
    row = await findEventConsumer(h.db, consumer.sink.name);
    expect(row).toMatchObject({ attempts: 0, retryAt: 0, lastError: null, cursor: evs[2]?.id });
  });

  it("a receiver that does not answer times out and is retried; another webhook is not held up", async () => {
    const { h, rx, consumerFor, compose } = await setup();
    const other = await webhookReceiver(SECRET);
    closers.push(other.close);
    const slow = consumerFor({ url: rx.url, secret: SECRET }, "p1", 300);
    const fast = consumerFor({ url: other.url, secret: SECRET });
    await slow.register();
    await fast.register();
    await compose();
    rx.setMode("hang");
    let slowDone = false;
    const slowRound = slow.drain().finally(() => {
      slowDone = true;
    });
    expect(await fast.drain()).toBe(3);
    expect(other.accepted()).toHaveLength(3);
    expect(slowDone).toBe(false);
    expect(await slowRound).toBe(0);
    const row = await findEventConsumer(h.db, slow.sink.name);
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toMatch(/abort|timeout/i);
    rx.setMode("ok");
    h.clock.advance(BASE_MS);
    expect(await slow.drain()).toBe(3);
    expect(rx.accepted().map((r) => r.body.compose.state_name)).toEqual([
      "wait",
      "generating",
      "done",
    ]);
  });

  it("filters: only matching events are sent, the cursor moves past the others", async () => {
    const { h, rx, consumer, compose, consumerFor } = await setup({
      states: ["done"],
      owners: ["unknown"],
      source_types: ["repo"],
    });
    const none = consumerFor({ url: `${rx.url}/tags`, secret: SECRET, source_types: ["tag"] });
    await none.register();
    const labelled = consumerFor({ url: `${rx.url}/label`, secret: SECRET, labels: ["nightly"] });
    await labelled.register();
    await compose();
    await compose();
    expect(await consumer.drain()).toBe(6);
    expect(rx.received.map((r) => r.body.compose.state_name)).toEqual(["done", "done"]);
    expect(await none.drain()).toBe(6);
    expect(await labelled.drain()).toBe(6);
    expect(rx.received).toHaveLength(2);
    expect((await findEventConsumer(h.db, none.sink.name))?.cursor).toBe(6);
  });

  it("two server processes: only the lease holder delivers; the other takes over when the lease runs out", async () => {
    const { h, rx, hook, consumerFor, compose } = await setup();
    const a = consumerFor(hook, "host-a:1");
    const b = consumerFor(hook, "host-b:2");
    await compose();
    rx.setMode("hang");
    const roundA = a.drain();
    // A holds the lease while its request hangs: B sends nothing.
    await waitForRequests(rx, 1);
    expect(await b.drain()).toBe(0);
    expect(rx.received).toHaveLength(1);
    // A dies (its request never ends); after the lease B delivers everything.
    h.clock.advance(30_001);
    rx.setMode("ok");
    expect(await b.drain()).toBe(3);
    expect(rx.accepted().map((r) => r.eventId)).toEqual(["1", "2", "3"]);
    await rx.close();
    await roundA.catch(() => {});
  });
});

async function waitForRequests(rx: { received: unknown[] }, n: number) {
  await waitFor(() => rx.received.length >= n, { what: `${n} webhook requests` });
}
