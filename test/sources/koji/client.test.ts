import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ComposeError } from "../../../src/sources/errors.ts";
import { KojiClient, KojiFault } from "../../../src/sources/koji/client.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../../helpers/koji-hub.ts";

let hub: KojiHub;
const client = (opts: Partial<ConstructorParameters<typeof KojiClient>[0]> = {}) =>
  new KojiClient({ hubUrl: hub.hubUrl, retryDelayMs: () => 1, ...opts });

beforeAll(async () => {
  const m = new KojiModel();
  m.createTag("f40");
  m.createTag("f40-build");
  m.addInheritance("f40-build", "f40", 10);
  hub = await startKojiHub(m, { version: "1.35.3" });
});
afterAll(() => hub.close());

describe("KojiClient", () => {
  test("anonymous calls with keywords; nil for an unknown tag; the Koji-Version header", async () => {
    const k = client();
    expect(await k.call("getAPIVersion")).toBe(1);
    expect(k.hubVersion).toBe("1.35.3");
    expect(await k.call("getTag", ["f40"], { event: 1 })).toMatchObject({
      name: "f40",
      query_event: 1,
    });
    expect(await k.call("getTag", ["nope"])).toBeNull();
    const last = hub.calls.at(-2);
    expect(last?.params).toEqual(["f40", { event: 1, __starstar: true }]);
  });

  test("a fault is a KojiFault with its code, final (not retried) and not retryable", async () => {
    const k = client();
    const err = await k.call("listTaggedRPMS", ["f99-build"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiFault);
    expect(err).toMatchObject({ faultCode: 1000, retryable: false });
    expect((err as Error).message).toBe(
      "Koji hub listTaggedRPMS failed: No such tagInfo: 'f99-build' (fault 1000)",
    );
    expect(k.stats.requests).toBe(1);
  });

  test("multiCall splits into batches, keeps order, and gives each failed call its fault", async () => {
    const k = client();
    const before = hub.xmlrpcRequests;
    const calls = ["f40", "nope", "f40-build", "f40", "f40-build"].map((t) => ({
      method: "getTagID",
      args: [t],
    }));
    const out = await k.multiCall([...calls, { method: "bogusMethod" }], { batch: 4 });
    expect(hub.xmlrpcRequests - before).toBe(2);
    expect(out.slice(0, 5)).toEqual([1, null, 2, 1, 2]);
    expect(out[5]).toBeInstanceOf(KojiFault);
    expect(out[5]).toMatchObject({
      faultCode: 1000,
      faultString: "Invalid method: bogusMethod",
      method: "bogusMethod",
    });
    expect(k.stats).toMatchObject({ calls: 6, requests: 2 });
  });

  test("connection resets are retried (bounded); ServerOffline fails retryable; HTTP 500 is not retried", async () => {
    const k = client({ retries: 2 });
    hub.failNext(2, "reset");
    expect(await k.call("getAPIVersion")).toBe(1);
    expect(k.stats.retries).toBe(2);

    hub.failNext(3, "reset");
    const gone = await client({ retries: 2 })
      .call("getAPIVersion")
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ComposeError);
    expect(gone).toMatchObject({ retryable: true });
    expect((gone as Error).message).toMatch(
      /^cannot reach the Koji hub http:\/\/127\.0\.0\.1:\d+\/kojihub for getAPIVersion \(3 attempts\)/,
    );

    hub.failNext(1, "offline");
    const offline = await client()
      .call("getLastEvent")
      .catch((e: unknown) => e);
    expect(offline).toMatchObject({ faultCode: 1014, retryable: true });

    hub.failNext(1, "http500");
    const k500 = client();
    const e500 = await k500.call("getLastEvent").catch((e: unknown) => e);
    expect(e500).toMatchObject({ retryable: true });
    expect((e500 as Error).message).toMatch(/answered getLastEvent with HTTP 500/);
    expect(k500.stats.requests).toBe(1);
    expect(await client().call("getAPIVersion")).toBe(1);
  });
});

describe("timeouts", () => {
  let silent: Server;
  let url: string;
  let received = 0;
  beforeAll(async () => {
    // Accepts the request and never answers.
    silent = createServer(() => {
      received++;
    });
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/kojihub`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((ok) => silent.close(ok));
  });

  test("a hub that does not answer within the timeout: each attempt times out, then a retryable error", async () => {
    const k = new KojiClient({ hubUrl: url, timeoutMs: 200, retries: 1, retryDelayMs: () => 1 });
    const err = await k.call("getLastEvent").catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toMatch(
      /\(2 attempts\): no answer within 200 ms \(ODCS_KOJI_TIMEOUT_MS\)$/,
    );
    expect(received).toBe(2);
  });

  test("an aborted job stops at once, without retrying", async () => {
    const ac = new AbortController();
    const k = new KojiClient({ hubUrl: url, timeoutMs: 60_000, retries: 5, signal: ac.signal });
    const p = k.call("getLastEvent").catch((e: unknown) => e);
    ac.abort(new Error("job cancelled"));
    expect(await p).toMatchObject({ message: "job cancelled" });
    expect(k.stats.retries).toBe(0);
  });
});
