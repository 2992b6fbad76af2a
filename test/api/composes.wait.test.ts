/**
 * GET /api/1/composes/<id>/wait: the long poll that is not part of ODCS.
 * Real app and database; state changes are made through the db layer, the
 * way the worker makes them, and announced with `notify` as the worker does.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { ComposeWaits, WAIT_POLL_MS } from "../../src/api/compose-waits.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { composeJson, givenCompose, odcsError, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";
import { waitFor } from "../helpers/wait.ts";

const NO_URL =
  "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

/** An app whose waits the test holds, plus a compose in `wait`. */
async function setup(limits?: { maxWaiters: number; pollMs: number }) {
  const t = await testApp();
  const waits = new ComposeWaits(t.db, limits);
  const app = createApp({ ...t.deps, waits });
  const compose = await givenCompose(t.db, { state: 0 });
  const wait = (query = "", init?: RequestInit) =>
    app.request(`/api/1/composes/${compose.id}/wait${query}`, init);
  /** Resolves once `n` requests are registered as waiting. */
  const waiting = (n: number) =>
    waitFor(() => waits.waiting === n, { what: `${n} waiting requests` });
  return { ...t, app, waits, compose, wait, waiting };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("GET /api/1/composes/<id>/wait", () => {
  test("answers a compose already in a final state at once, as GET does", async () => {
    const t = await setup();
    await moveCompose(t.db, t.compose.id, "wait", "failed", T0 + 1, { stateReason: "x" });
    const res = await t.wait();
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const body = await res.json();
    expect(body).toEqual(await (await t.app.request(`/api/1/composes/${t.compose.id}`)).json());
    expect(body).toMatchObject({ state_name: "failed", state_reason: "x" });
    expect(t.waits.waiting).toBe(0);
  });

  test("a state change announced in the process ends the wait", async () => {
    const t = await setup();
    const pending = t.wait("?state=done&timeout=30");
    await t.waiting(1);
    const now = T0 + 5;
    await moveCompose(t.db, t.compose.id, "wait", "generating", now);
    t.waits.notify(t.compose.id);
    await moveCompose(t.db, t.compose.id, "generating", "done", now, {
      stateReason: "Compose is generated successfully",
    });
    t.waits.notify(t.compose.id);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: t.compose.id,
      state_name: "done",
      state_reason: "Compose is generated successfully",
    });
    expect(t.waits.waiting).toBe(0);
  });

  test("stops waiting when the wanted state can no longer be reached", async () => {
    const t = await setup();
    const pending = t.wait("?state=done");
    await t.waiting(1);
    await moveCompose(t.db, t.compose.id, "wait", "failed", T0 + 5, {
      stateReason: "Canceled by alice",
    });
    t.waits.notify(t.compose.id);
    expect(await (await pending).json()).toMatchObject({ state_name: "failed" });
  });

  test("several states: the first one reached ends the wait", async () => {
    const t = await setup();
    const pending = t.wait("?state=generating,done");
    await t.waiting(1);
    await moveCompose(t.db, t.compose.id, "wait", "generating", T0 + 5);
    t.waits.notify(t.compose.id);
    expect(await (await pending).json()).toMatchObject({ state_name: "generating" });
  });

  test("a cancel through DELETE wakes the waiting request", async () => {
    const t = await setup();
    const pending = t.wait();
    await t.waiting(1);
    const del = await t.app.request(`/api/1/composes/${t.compose.id}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    expect(await (await pending).json()).toMatchObject({
      state_name: "failed",
      state_reason: "Canceled by anonymous",
    });
  });

  test("after the timeout it answers the compose as it is", async () => {
    const t = await setup();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const pending = t.wait("?timeout=2.5");
    await vi.waitFor(() => expect(t.waits.waiting).toBe(1));
    await vi.advanceTimersByTimeAsync(2500);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ...composeJson(t.compose.id),
      pungi_config_dump: null,
    });
    expect(t.waits.waiting).toBe(0);
  });

  test("timeout=0 answers at once", async () => {
    const t = await setup();
    expect(await (await t.wait("?timeout=0")).json()).toMatchObject({ state_name: "wait" });
  });

  test("a change made elsewhere (no notify) is seen by the shared poll", async () => {
    const t = await setup();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const pending = t.wait("?state=done");
    await vi.waitFor(() => expect(t.waits.waiting).toBe(1));
    await moveCompose(t.db, t.compose.id, "wait", "generating", T0 + 5);
    await moveCompose(t.db, t.compose.id, "generating", "done", T0 + 6);
    await vi.advanceTimersByTimeAsync(WAIT_POLL_MS);
    expect(await (await pending).json()).toMatchObject({ state_name: "done" });
  });

  test("the app makes its own waits when none is given, and they poll", async () => {
    const t = await testApp();
    const compose = await givenCompose(t.db, { state: 0 });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let settled = false;
    const pending = Promise.resolve(
      t.request(`/api/1/composes/${compose.id}/wait?state=generating`),
    ).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(WAIT_POLL_MS);
    expect(settled).toBe(false);
    await moveCompose(t.db, compose.id, "wait", "generating", T0 + 5);
    await vi.advanceTimersByTimeAsync(WAIT_POLL_MS);
    expect(await (await pending).json()).toMatchObject({ state_name: "generating" });
  });

  test("a client that goes away frees its place", async () => {
    const t = await setup();
    const abort = new AbortController();
    const pending = t.wait("", { signal: abort.signal });
    await t.waiting(1);
    abort.abort();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(t.waits.waiting).toBe(0);
  });

  test("beyond the limit of waiting requests: 503 with Retry-After, and nothing else changes", async () => {
    const t = await setup({ maxWaiters: 1, pollMs: WAIT_POLL_MS });
    const first = t.wait();
    await t.waiting(1);
    const res = await t.wait();
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({
      status: 503,
      error: "Service Unavailable",
      message: `1 requests are already waiting, the most this server allows; retry later or poll GET /api/1/composes/${t.compose.id}`,
    });
    await moveCompose(t.db, t.compose.id, "wait", "failed", T0 + 5);
    t.waits.notify(t.compose.id);
    expect(await (await first).json()).toMatchObject({ state_name: "failed" });
    expect(t.waits.waiting).toBe(0);
  });

  test.each([
    [
      "?state=bogus",
      "state: must be a comma-separated list of wait, generating, done, removed, failed",
    ],
    [
      "?state=done,",
      "state: must be a comma-separated list of wait, generating, done, removed, failed",
    ],
    ["?timeout=abc", "timeout: must be a number of seconds"],
    ["?timeout=-1", "timeout: must be a number of seconds"],
    ["?timeout=61", "timeout: must be at most 60 seconds"],
  ])("bad query %s: 400 with the ODCS error body", async (query, message) => {
    const t = await setup();
    const res = await t.wait(query);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(odcsError(400, message));
    expect(t.waits.waiting).toBe(0);
  });

  test("an unknown compose is a 404 as for GET; a malformed id matches no route", async () => {
    const t = await setup();
    const res = await t.app.request("/api/1/composes/999/wait");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(odcsError(404, "No such compose found."));
    const bad = await t.app.request("/api/1/composes/abc/wait");
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual(odcsError(404, NO_URL));
    expect(t.waits.waiting).toBe(0);
  });

  test("only GET: other methods get 405 with Allow", async () => {
    const t = await setup();
    const res = await t.wait("", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  test("the read-only (edge) app does not serve it", async () => {
    const t = await setup();
    const edge = createApp(t.deps, { readOnly: true });
    const res = await edge.request(`/api/1/composes/${t.compose.id}/wait`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(odcsError(404, NO_URL));
  });
});
