import { once } from "node:events";
import { connect } from "node:net";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, readFormBody } from "../../src/api/body.ts";
import {
  inWriteThread,
  readBodyAhead,
  takesTurn,
  WRITES_AT_ONCE,
  WriteGate,
  withBodyAhead,
} from "../../src/node/write-gate.ts";
import { serverForSuite } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

/** Resolves after the event loop's next check phase (one turn). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("WriteGate", () => {
  it("starts a write in a later turn, never in the one that asked", async () => {
    const gate = new WriteGate(4);
    let entered = false;
    void gate.enter().then(() => {
      entered = true;
    });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(entered).toBe(false);
    await nextTurn();
    await Promise.resolve();
    expect(entered).toBe(true);
  });

  it("starts one write per turn, in the order they asked", async () => {
    const gate = new WriteGate(4);
    const started: number[] = [];
    for (const n of [1, 2, 3]) void gate.enter().then(() => started.push(n));
    await nextTurn();
    expect(started).toEqual([1]);
    await nextTurn();
    expect(started).toEqual([1, 2]);
    await nextTurn();
    expect(started).toEqual([1, 2, 3]);
  });

  it("works on at most `limit` writes; an ended one lets the next start", async () => {
    const gate = new WriteGate(2);
    const leaves: (() => void)[] = [];
    for (let i = 0; i < 3; i++) void gate.enter().then((leave) => leaves.push(leave));
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(gate.counts).toEqual({ active: 2, waiting: 1 });
    leaves[0]?.();
    leaves[0]?.(); // idempotent: ends one write only
    for (let i = 0; i < 2; i++) await nextTurn();
    expect(gate.counts).toEqual({ active: 2, waiting: 0 });
    expect(leaves).toHaveLength(3);
  });

  it("gates writes but not reads or streamed uploads", () => {
    const req = (method: string, path: string) =>
      new Request(`http://h${path}`, { method, ...(method === "GET" ? {} : { body: "" }) });
    expect(takesTurn(req("POST", "/api/1/composes/"))).toBe(true);
    expect(takesTurn(req("PATCH", "/api/1/composes/3"))).toBe(true);
    expect(takesTurn(req("DELETE", "/api/1/composes/3"))).toBe(true);
    expect(takesTurn(req("POST", "/ui/composes/3/renew"))).toBe(true);
    expect(takesTurn(req("GET", "/api/1/composes/"))).toBe(false);
    expect(takesTurn(new Request("http://h/api/1/about/", { method: "HEAD" }))).toBe(false);
    expect(takesTurn(req("POST", "/api/1/uploads/"))).toBe(false);
    // Its body is read first: a body that fails then deletes nothing (test/fuzz/wire.test.ts).
    expect(takesTurn(req("DELETE", "/api/1/uploads/abc"))).toBe(true);
    expect(inWriteThread(req("DELETE", "/api/1/uploads/abc"))).toBe(false);
    expect(inWriteThread(req("DELETE", "/api/1/composes/3"))).toBe(true);
  });
});

describe("a body read ahead (the dashboard's forms)", () => {
  const limits = { maxBytes: 64, idleMs: 5_000 };
  const FORM = "_csrf=abc&label=read%20once";

  /** A form POST whose body stream counts the bytes pulled from it. */
  function formRequest(body: string) {
    const pulled = { bytes: 0, pulls: 0 };
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        pulled.pulls++;
        if (pulled.bytes >= bytes.length) return ctl.close();
        const chunk = bytes.slice(pulled.bytes, pulled.bytes + 8);
        pulled.bytes += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const req = new Request("http://h/ui/form", {
      method: "POST",
      body: stream,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      duplex: "half",
    } as RequestInit);
    return { req, pulled };
  }

  /** An app whose one form route answers its fields and whether it got the very request served. */
  const formApp = (served: Request) =>
    new Hono().post("/ui/form", async (c) => {
      try {
        const fields = await readFormBody(c, limits);
        return c.json({ fields: { ...fields }, same: c.req.raw === served }, 200);
      } catch (err) {
        return c.json({ error: (err as Error).message }, 400);
      }
    });

  // Before, the bytes read ahead went into a new Request, whose body the
  // handler then read again (a stream, an idle timer per chunk, one more copy).
  it("hands the bytes read to the handler, which reads the body no second time", async () => {
    const { req, pulled } = formRequest(FORM);
    const ahead = await readBodyAhead(req, limits);
    expect(ahead.kind).toBe("read");
    const afterReadAhead = { ...pulled };
    expect(afterReadAhead.bytes).toBe(FORM.length);
    const res = await formApp(req).fetch(req, withBodyAhead({}, ahead));
    expect(await res.json()).toEqual({
      fields: { _csrf: "abc", label: "read once" },
      same: true,
    });
    expect(pulled).toEqual(afterReadAhead);
    expect(req.bodyUsed).toBe(true);
  });

  it("keeps the limit and the errors: 413 past maxBytes, the read's error as is", async () => {
    const big = formRequest(`label=${"x".repeat(100)}`);
    const tooBig = await readBodyAhead(big.req, limits);
    // Read just past the limit (the stream buffers a chunk or two ahead), not to its end.
    expect(big.pulled.bytes).toBeLessThan(`label=${"x".repeat(100)}`.length);
    const res = await formApp(big.req).fetch(big.req, withBodyAhead({}, tooBig));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "Request body larger than 64 bytes" });

    const cut = formRequest(FORM);
    const failed = withBodyAhead({}, { kind: "failed", err: new Error("socket hang up") });
    const refused = await formApp(cut.req).fetch(cut.req, failed);
    expect(await refused.json()).toEqual({
      error: "The request body ended before it was complete (socket hang up)",
    });
    expect(cut.req.bodyUsed).toBe(false);
  });
});

describe("a burst of creates against the real server", () => {
  const server = serverForSuite();

  // Before the gate Node ran each create from its socket's read callback, a
  // turn's creates back to back: under a steady flood a GET waited for about
  // every create in flight (64), whatever the machine's speed.
  it("under a steady flood of 64 creates at a time a GET waits for a few creates, not all", async () => {
    const body = JSON.stringify({ source: { type: "repo", source: "/srv/none" } });
    let answered = 0;
    let stop = false;
    const flood = Array.from({ length: 64 }, async () => {
      while (!stop) {
        const r = await fetch(`${server().url}/api/1/composes/`, { method: "POST", body });
        await r.arrayBuffer();
        expect(r.status).toBe(200);
        answered++;
      }
    });
    await waitFor(() => answered >= 128, { timeoutMs: 60_000, what: "128 creates answered" });
    const waitedFor: number[] = [];
    for (let i = 0; i < 30; i++) {
      const before = answered;
      const r = await fetch(`${server().url}/api/1/about/`);
      await r.arrayBuffer();
      expect(r.status).toBe(200);
      waitedFor.push(answered - before);
    }
    stop = true;
    await Promise.all(flood);
    waitedFor.sort((a, b) => a - b);
    // Creates answered while a GET was out, median: 64-ish without the gate.
    expect(waitedFor[15]).toBeLessThan(16);
  }, 120_000);

  it("clients trickling their bodies hold no turn: another create is answered meanwhile", async () => {
    const { port } = new URL(server().url);
    const body = JSON.stringify({ source: { type: "repo", source: "/srv/none" } });
    const slow = await Promise.all(
      Array.from({ length: 2 * WRITES_AT_ONCE }, async () => {
        const socket = connect(Number(port), "127.0.0.1");
        await once(socket, "connect");
        socket.write(
          `POST /api/1/composes/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        return socket;
      }),
    );
    try {
      // Without reading bodies before the turn, this waited for the slow
      // clients' request timeout (Node's default: 5 minutes).
      const res = await fetch(`${server().url}/api/1/composes/`, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(20_000),
      });
      expect(res.status).toBe(200);
      // The slow ones are still served once their bodies arrive.
      const answers = slow.map(async (socket) => {
        let got = "";
        socket.on("data", (d: Buffer) => {
          got += d.toString();
        });
        socket.write(body.slice(10));
        await waitFor(() => got.includes("\r\n\r\n"), { what: "an answer to a slow create" });
        return got.split("\r\n")[0];
      });
      expect(await Promise.all(answers)).toEqual(slow.map(() => "HTTP/1.1 200 OK"));
    } finally {
      for (const socket of slow) socket.destroy();
    }
  }, 60_000);

  it("a dashboard form, its body read ahead, is answered from that body", async () => {
    const page = await fetch(`${server().url}/ui/new`);
    const token = /odcs_csrf=([^;]+)/.exec(page.headers.get("set-cookie") ?? "")?.[1] ?? "";
    await page.arrayBuffer();
    expect(token).not.toBe("");
    const res = await fetch(`${server().url}/ui/new`, {
      method: "POST",
      body: new URLSearchParams({
        _csrf: token,
        source_type: "repo",
        source: "/srv/form-read-once",
      }),
      headers: { Cookie: `odcs_csrf=${token}` },
      redirect: "manual",
    });
    await res.arrayBuffer();
    expect(res.status).toBe(303);
    const id = Number(/\/ui\/composes\/(\d+)/.exec(res.headers.get("location") ?? "")?.[1]);
    const got = await fetch(`${server().url}/api/1/composes/${id}`);
    expect(await got.json()).toMatchObject({ id, source: "/srv/form-read-once" });
  });

  it("a create whose body never ends is refused 413 once past ODCS_MAX_BODY_BYTES", async () => {
    const chunk = new TextEncoder().encode(`{"label": "${"x".repeat(64 * 1024)}`);
    const endless = new ReadableStream<Uint8Array>({
      pull(ctl) {
        ctl.enqueue(chunk);
      },
    });
    const res = await fetch(`${server().url}/api/1/composes/`, {
      method: "POST",
      body: endless,
      duplex: "half",
      signal: AbortSignal.timeout(30_000),
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      status: 413,
      message: `Request body larger than ${MAX_BODY_BYTES} bytes`,
    });
  }, 60_000);
});
