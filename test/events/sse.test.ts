/**
 * GET /api/1/events/ against the real service process, read by a real HTTP
 * client: live events, filters, heartbeats, resuming with Last-Event-ID
 * after a disconnect and after a server restart.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { LIBDNF_REPO, type ServiceProcess, startService } from "../helpers/service.ts";
import { openStream } from "../helpers/sse-client.ts";
import { waitFor } from "../helpers/wait.ts";

const ENV = { ODCS_EVENTS_POLL_MS: "50", ODCS_EVENTS_HEARTBEAT_SECONDS: "1" };
let svc: ServiceProcess;
const streams: { close: () => Promise<void> }[] = [];

beforeAll(async () => {
  svc = await startService({ env: ENV });
});
afterAll(async () => {
  for (const s of streams) await s.close();
  await svc?.stop();
});

async function post(): Promise<number> {
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    body: JSON.stringify({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } }),
    headers: { "Content-Type": "application/json" },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: number }).id;
}

async function stream(query = "", headers: Record<string, string> = {}) {
  const s = await openStream(`${svc.url}/api/1/events/${query}`, headers);
  streams.push(s);
  return s;
}

const statesOf = (s: Awaited<ReturnType<typeof stream>>, id: number) =>
  s
    .messages()
    .filter((m) => m.compose.id === id)
    .map((m) => m.compose.state_name);

it("streams every state change as it happens, with id, event name and ODCS's body; heartbeats when idle", async () => {
  const s = await stream();
  expect(s.status).toBe(200);
  expect(s.contentType).toMatch(/^text\/event-stream/);
  const id = await post();
  await waitFor(() => statesOf(s, id).length === 3, { timeoutMs: 30_000, what: "3 events" });
  expect(statesOf(s, id)).toEqual(["wait", "generating", "done"]);
  for (const e of s.events) {
    expect(e.event).toBe("state-changed");
    expect(e.id).toMatch(/^\d+$/);
  }
  const ids = s.events.map((e) => Number(e.id));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  const last = s.messages().at(-1);
  const res = await fetch(`${svc.url}/api/1/composes/${id}`);
  const { pungi_config_dump: _, ...now } = (await res.json()) as Record<string, unknown>;
  expect(last).toEqual({ event: "state-changed", compose: now });
  await waitFor(() => s.comments.some((c) => c.trim() === "heartbeat"), {
    timeoutMs: 5000,
    what: "a heartbeat comment",
  });
});

it("filters by compose_id, owner and source_type", async () => {
  const byOther = await stream("?source_type=tag");
  const byOwner = await stream("?owner=unknown&source_type=repo");
  const first = await post();
  const byId = await stream(`?compose_id=${first}&last_event_id=0`);
  const second = await post();
  await waitFor(() => statesOf(byOwner, second).length === 3, { timeoutMs: 30_000 });
  await waitFor(() => statesOf(byId, first).length === 3, { timeoutMs: 30_000 });
  expect(statesOf(byOwner, first)).toEqual(["wait", "generating", "done"]);
  expect(byId.messages().every((m) => m.compose.id === first)).toBe(true);
  // Heartbeats prove the tag stream is live; it got no event.
  await waitFor(() => byOther.comments.length > 0, { timeoutMs: 5000 });
  expect(byOther.events).toEqual([]);
});

it("a bad Last-Event-ID or filter is a 400 with the ODCS error body", async () => {
  const res = await fetch(`${svc.url}/api/1/events/`, { headers: { "Last-Event-ID": "abc" } });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({
    status: 400,
    error: "Bad Request",
    message: "Last-Event-ID: must be an event id",
  });
  const bad = await fetch(`${svc.url}/api/1/events/?source_type=nope`);
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { message: string }).message).toMatch(
    /^source_type: must be one of/,
  );
});

it("resumes with Last-Event-ID after a disconnect and across a server restart, missing nothing", async () => {
  const s = await stream();
  const a = await post();
  await waitFor(() => statesOf(s, a).length === 3, { timeoutMs: 30_000 });
  const lastSeen = s.events.at(-1)?.id ?? "";
  await s.close();

  // While disconnected.
  const b = await post();
  const resumed = await stream("", { "Last-Event-ID": lastSeen });
  await waitFor(() => statesOf(resumed, b).length === 3, { timeoutMs: 30_000 });
  expect(resumed.messages().map((m) => m.compose.id)).toEqual([b, b, b]);
  const lastBeforeRestart = resumed.events.at(-1)?.id ?? "";

  // The server goes away (the stream ends), composes are made by a new server on the same data.
  const t0 = Date.now();
  expect(await svc.stop()).toBe(0);
  // Open streams end at once; they do not hold the shutdown for the grace time.
  expect(Date.now() - t0).toBeLessThan(5000);
  await waitFor(() => resumed.ended, { timeoutMs: 10_000, what: "the stream to end" });
  svc = await startService({ dataDir: svc.dataDir, env: ENV });
  const c = await post();
  await waitFor(
    async () =>
      ((await (await fetch(`${svc.url}/api/1/composes/${c}`)).json()) as { state_name: string })
        .state_name === "done",
    { timeoutMs: 30_000 },
  );
  const again = await stream("", { "Last-Event-ID": lastBeforeRestart });
  await waitFor(() => statesOf(again, c).length === 3, { timeoutMs: 30_000 });
  expect(again.messages().map((m) => m.compose.id)).toEqual([c, c, c]);
  expect(Number(again.events[0]?.id)).toBe(Number(lastBeforeRestart) + 1);
}, 120_000);
