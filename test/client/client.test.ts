/**
 * The hand-written part of the TypeScript client over the real API app
 * (in process, through its fetch handler): typed calls, OdcsError with the
 * ODCS body, bearer tokens, waitForCompose by long poll and, against a
 * server without it (upstream ODCS), by ODCS's polling schedule on an
 * injected clock.
 */
import { eq } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import { NOT_FOUND_URL } from "../../src/api/errors.ts";
import {
  createOdcsClient,
  LogReader,
  nextDelay,
  OdcsError,
  OdcsTimeoutError,
  type WaitClock,
} from "../../src/client/index.ts";
import { composes } from "../../src/db/schema.ts";
import { givenCompose, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

type App = Awaited<ReturnType<typeof testApp>>;

/** The app as a server at http://odcs.test, recording each request; `without` answers like a server lacking a route. */
function serve(t: App, opts: { without?: RegExp; upstreamStyle?: boolean } = {}) {
  const seen: { method: string; url: string; authorization: string | null }[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push({
      method: req.method,
      url: req.url,
      authorization: req.headers.get("authorization"),
    });
    if (opts.without?.test(new URL(req.url).pathname)) {
      // Upstream ODCS answers an unknown route with a 500 carrying the 404 text (§1.2).
      const status = opts.upstreamStyle ? 500 : 404;
      const message = opts.upstreamStyle ? `404 Not Found: ${NOT_FOUND_URL}` : NOT_FOUND_URL;
      return Response.json(
        { error: opts.upstreamStyle ? "Internal Server Error" : "Not Found", message, status },
        { status },
      );
    }
    return t.app.fetch(req);
  };
  return { fetch: fetchFn as typeof fetch, seen };
}

/** Time that moves only when slept through; `onSleep` runs after each sleep. */
function steppedClock(onSleep: (n: number) => Promise<void> | void = () => {}) {
  let now = 0;
  const sleeps: number[] = [];
  const clock: WaitClock = {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      now += ms;
      await onSleep(sleeps.length);
    },
  };
  return { clock, sleeps };
}

const setState = (t: App, id: number, state: number) =>
  t.db.update(composes).set({ state }).where(eq(composes.id, id));

describe("typed calls and errors", () => {
  test("create and get return the typed compose; an error status throws OdcsError with the ODCS body", async () => {
    const t = await testApp({ config: { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" } });
    const odcs = createOdcsClient({ server: "http://odcs.test/", fetch: serve(t).fetch });
    const { data } = await odcs.api.POST("/api/1/composes", {
      body: { source: { type: "repo", source: "/srv/repos/a", packages: ["wget"] } },
    });
    expect(data).toMatchObject({ id: 1, state_name: "wait", packages: "wget" });
    const got = await odcs.api.GET("/api/1/composes/{id}", { params: { path: { id: 1 } } });
    expect(got.data?.pungi_config_dump).toBeNull();

    const err = await odcs.api
      .POST("/api/1/composes", {
        body: { source: { type: "repo", source: "/srv/repos/a" }, flags: ["bogus" as never] },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdcsError);
    expect(err).toMatchObject({ status: 400, body: odcsError(400, "Unknown flag bogus") });
    expect((err as OdcsError).text).toBe(JSON.stringify(odcsError(400, "Unknown flag bogus")));

    const missing = await odcs.api
      .GET("/api/1/composes/{id}", { params: { path: { id: 9 } } })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, body: odcsError(404, "No such compose found.") });
  });

  test("a token (string or function, asked for each request) goes out as a bearer header", async () => {
    const t = await testApp();
    const server = serve(t);
    let n = 0;
    const fixed = createOdcsClient({
      server: "http://odcs.test",
      token: "abc",
      fetch: server.fetch,
    });
    const refreshing = createOdcsClient({
      server: "http://odcs.test",
      token: async () => `t${++n}`,
      fetch: server.fetch,
    });
    const anonymous = createOdcsClient({ server: "http://odcs.test", fetch: server.fetch });
    await fixed.api.GET("/api/1/about");
    await refreshing.api.GET("/api/1/about");
    await refreshing.api.GET("/api/1/about");
    await anonymous.api.GET("/api/1/about");
    expect(server.seen.map((s) => s.authorization)).toEqual([
      "Bearer abc",
      "Bearer t1",
      "Bearer t2",
      null,
    ]);
  });
});

describe("waitForCompose", () => {
  test("uses the long poll: wakes on each state change and returns the final compose", async () => {
    const t = await testApp();
    const c = await givenCompose(t.db);
    const server = serve(t);
    const odcs = createOdcsClient({ server: "http://odcs.test", fetch: server.fetch });
    const states: string[] = [];
    const waiting = odcs.waitForCompose(c.id, {
      timeout: 600,
      onUpdate: async (u) => {
        states.push(u.state_name);
        if (u.state_name === "wait") await setState(t, c.id, 1);
        if (u.state_name === "generating") await setState(t, c.id, 2);
      },
    });
    expect(await waiting).toMatchObject({ id: c.id, state_name: "done" });
    expect(states).toEqual(["wait", "generating", "done"]);
    const paths = server.seen.map((s) => new URL(s.url).pathname + new URL(s.url).search);
    expect(paths[0]).toBe(`/api/1/composes/${c.id}`);
    expect(paths[1]).toMatch(
      new RegExp(
        `^/api/1/composes/${c.id}/wait\\?state=generating(,|%2C)done(,|%2C)failed(,|%2C)removed&timeout=30\\.000$`,
      ),
    );
    expect(paths[2]).toMatch(new RegExp(`^/api/1/composes/${c.id}/wait\\?timeout=`));
    expect(paths).toHaveLength(3);
  });

  test.each([false, true])(
    "without the long poll (upstream style %s): ODCS's schedule 1, 2, 3 s … until done",
    async (upstreamStyle) => {
      const t = await testApp();
      const c = await givenCompose(t.db);
      const server = serve(t, { without: /\/wait$/, upstreamStyle });
      const { clock, sleeps } = steppedClock(async (n) => {
        if (n === 3) await setState(t, c.id, 4);
      });
      const odcs = createOdcsClient({ server: "http://odcs.test", fetch: server.fetch });
      expect(await odcs.waitForCompose(c.id, { clock })).toMatchObject({ state_name: "failed" });
      expect(sleeps).toEqual([1000, 2000, 3000]);
      // One long poll tried, then plain GETs.
      expect(server.seen.filter((s) => s.url.includes("/wait"))).toHaveLength(1);
    },
  );

  test("times out as ODCS's client does, never sleeping past the timeout", async () => {
    const t = await testApp();
    const c = await givenCompose(t.db);
    const { clock, sleeps } = steppedClock();
    const odcs = createOdcsClient({
      server: "http://odcs.test",
      fetch: serve(t, { without: /\/wait$/ }).fetch,
    });
    const err = await odcs.waitForCompose(c.id, { timeout: 10, clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdcsTimeoutError);
    expect((err as Error).message).toBe(
      `Retrieving ODCS compose ${c.id} timed out after 10 seconds`,
    );
    expect((err as OdcsTimeoutError).last.state_name).toBe("wait");
    expect(sleeps).toEqual([1000, 2000, 3000, 4000]);
  });

  test("an unknown compose is an OdcsError 404; an abort ends the wait with its reason", async () => {
    const t = await testApp();
    const odcs = createOdcsClient({
      server: "http://odcs.test",
      fetch: serve(t, { without: /\/wait$/ }).fetch,
    });
    await expect(odcs.waitForCompose(5)).rejects.toMatchObject({ status: 404 });
    const c = await givenCompose(t.db);
    const abort = new AbortController();
    const { clock } = steppedClock((n) => {
      if (n === 2) abort.abort(new Error("stop"));
    });
    await expect(odcs.waitForCompose(c.id, { clock, signal: abort.signal })).rejects.toThrow(
      "stop",
    );
  });

  test("the polling delays are ODCS's (Python's round, halves to even)", () => {
    const seq = [1];
    for (let i = 0; i < 10; i++) seq.push(nextDelay(seq[seq.length - 1] ?? 1));
    expect(seq).toEqual([1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72]);
  });
});

describe("LogReader", () => {
  test("reads on from its byte offset; 404 and 416 are nothing new; a split UTF-8 character waits for its end", async () => {
    const file = new TextEncoder().encode("line ü one\nline two\n");
    let size = 0;
    const ranges: string[] = [];
    const fetchFn = (async (_url: string, init?: RequestInit) => {
      const range = new Headers(init?.headers).get("range") ?? "";
      ranges.push(range);
      if (size === 0) return new Response(null, { status: 404 });
      const from = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
      if (from >= size) return new Response(null, { status: 416 });
      return new Response(file.slice(from, size), { status: 206 });
    }) as typeof fetch;
    const log = new LogReader("http://odcs.test/composes/odcs-1/pungi-stderr.log", fetchFn);
    expect(await log.read()).toBe("");
    size = 6; // in the middle of "ü"
    expect(await log.read()).toBe("line ");
    size = file.length;
    expect(await log.read()).toBe("ü one\nline two\n");
    expect(await log.read()).toBe("");
    expect(ranges).toEqual(["bytes=0-", "bytes=0-", "bytes=6-", `bytes=${file.length}-`]);
  });

  test("a server that ignores Range (200, whole file): the part already read is skipped", async () => {
    let body = "a\n";
    const fetchFn = (async () => new Response(body, { status: 200 })) as typeof fetch;
    const log = new LogReader("http://x/log", fetchFn);
    expect(await log.read()).toBe("a\n");
    body = "a\nb\n";
    expect(await log.read()).toBe("b\n");
  });
});
