import { execFileSync } from "node:child_process";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { setWriteFault } from "../../src/db/client.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { claimNextJob, findCanceledJobs, heartbeatJob } from "../../src/db/jobs.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { composeJson, countRows, DAY_MS, givenCompose, odcsError, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

type App = Awaited<ReturnType<typeof testApp>>;
const HOUR = 3_600_000;
const del = (t: App, id: number | string, init: RequestInit = {}) =>
  t.request(`/api/1/composes/${id}`, { method: "DELETE", ...init });
const accepted = (id: number) => ({
  message: `The delete request for compose (id=${id}) has been accepted and will be processed by backend later.`,
  status: 202,
});
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

describe("DELETE /api/1/composes/<id> of a waiting compose cancels it", () => {
  it("202, failed with 'Canceled by anonymous', job cancelled, lifetime re-based", async () => {
    const t = await testApp({ config: { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" } });
    expect(
      (await t.postJson("/api/1/composes/", { source: { type: "repo", source: "/srv/repos/a" } }))
        .status,
    ).toBe(200);
    t.clock.advance(HOUR);
    const res = await del(t, 1);
    expect(res.status).toBe(202);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await res.json()).toEqual({ message: "Compose (id=1) has been canceled", status: 202 });

    const body = await (await t.request("/api/1/composes/1")).json();
    expect(body).toEqual({
      ...composeJson(1, {
        state: 4,
        state_name: "failed",
        state_reason: "Canceled by anonymous",
        time_to_expire: iso(T0 + HOUR + DAY_MS),
      }),
      pungi_config_dump: null,
    });
    const [job] = await t.db.select().from(jobs);
    expect(job).toMatchObject({
      composeId: 1,
      state: "failed",
      lastError: "canceled",
      updatedAt: T0 + HOUR,
    });
    const evs = await t.db.select().from(events).orderBy(events.id);
    expect(evs.map((e) => [e.fromState, e.toState, e.stateReason])).toEqual([
      [null, 0, null],
      [0, 4, "Canceled by anonymous"],
    ]);
  });

  it("a second DELETE then expires the failed compose", async () => {
    const t = await testApp();
    await givenCompose(t.db);
    expect((await del(t, 1)).status).toBe(202);
    const res = await del(t, 1);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 202,
      body: accepted(1),
    });
  });
});

describe("DELETE /api/1/composes/<id> of a generating compose cancels it (unlike upstream's 400)", () => {
  it("202, failed 'Canceled by anonymous', its running job ended, one event, lifetime re-based", async () => {
    const t = await testApp({ config: { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" } });
    await t.postJson("/api/1/composes/", { source: { type: "repo", source: "/srv/repos/a" } });
    const claimed = await claimNextJob(t.db, "w1", T0, 30_000);
    expect(claimed).toMatchObject({ composeId: 1, state: "running", attempts: 1 });
    expect(await moveCompose(t.db, 1, "wait", "generating", T0)).toBe(true);
    t.clock.advance(HOUR);
    const res = await del(t, 1);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 202,
      body: { message: "Compose (id=1) has been canceled", status: 202 },
    });
    const body = await (await t.request("/api/1/composes/1")).json();
    expect(body).toMatchObject({
      state_name: "failed",
      state_reason: "Canceled by anonymous",
      time_done: null,
      time_to_expire: iso(T0 + HOUR + DAY_MS),
    });
    const [job] = await t.db.select().from(jobs);
    const jobId = job?.id ?? 0;
    // Ended for good, its execution still named: that worker aborts and retries nothing.
    expect(job).toMatchObject({
      state: "failed",
      lastError: "canceled",
      lockedBy: "w1",
      attempts: 1,
      leaseUntil: null,
    });
    expect(await findCanceledJobs(t.db, "w1", [{ id: jobId, attempts: 1 }])).toEqual([jobId]);
    // Another worker, or another attempt, was not cancelled: it had lost its lease.
    expect(await findCanceledJobs(t.db, "w2", [{ id: jobId, attempts: 1 }])).toEqual([]);
    expect(await findCanceledJobs(t.db, "w1", [{ id: jobId, attempts: 2 }])).toEqual([]);
    expect(await heartbeatJob(t.db, jobId, "w1", T0 + HOUR, 30_000)).toBe(false);
    expect(await claimNextJob(t.db, "w2", T0 + 2 * HOUR, 30_000)).toBeUndefined();
    const evs = await t.db.select().from(events).orderBy(events.id);
    expect(evs.map((e) => [e.fromState, e.toState, e.stateReason])).toEqual([
      [null, 0, null],
      [0, 1, null],
      [1, 4, "Canceled by anonymous"],
    ]);
  });

  it("a compose that became done before the cancel's transaction falls back to the removal rules", async () => {
    const t = await testApp();
    await givenCompose(t.db, { state: 1, timeToExpire: T0 + DAY_MS });
    // The worker's `done` commits between the DELETE's read and its transaction:
    // another process writes the file at the moment the transaction begins.
    const file = t.dbUrl.replace(/^file:/, "");
    setWriteFault(t.db, (sql) => {
      if (sql !== "BEGIN") return;
      setWriteFault(t.db, undefined);
      execFileSync("python3", [
        "-c",
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10); c.execute('UPDATE composes SET state = 2 WHERE id = 1'); c.commit()",
        file,
      ]);
    });
    const res = await del(t, 1);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 202,
      body: accepted(1),
    });
    const [row] = await t.db.select().from(composes).where(eq(composes.id, 1));
    expect(row).toMatchObject({ state: 2, removedBy: "anonymous", stateReason: null });
  });
});

describe("DELETE /api/1/composes/<id> of a done or failed compose", () => {
  it.each([
    ["done", 2],
    ["failed", 4],
  ])("%s → 202, removed_by anonymous, time_to_expire now, state unchanged", async (name, state) => {
    const t = await testApp();
    await givenCompose(t.db, { state, timeToExpire: T0 + 3 * DAY_MS, stateReason: "r" });
    t.clock.advance(HOUR);
    const res = await del(t, 1, { body: '{"ignored": true}' });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 202,
      body: accepted(1),
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const body = await (await t.request("/api/1/composes/1")).json();
    expect(body).toMatchObject({
      state_name: name,
      removed_by: "anonymous",
      time_to_expire: iso(T0 + HOUR),
      time_removed: null,
    });
    expect(await countRows(t.db)).toEqual({ composes: 1, jobs: 0, events: 0 });
  });

  it("again before the sweep → 202 again, time_to_expire overwritten", async () => {
    const t = await testApp();
    await givenCompose(t.db, { state: 2 });
    await del(t, 1);
    t.clock.advance(60_000);
    expect((await del(t, 1)).status).toBe(202);
    const [row] = await t.db.select().from(composes).where(eq(composes.id, 1));
    expect(row?.timeToExpire).toBe(T0 + 60_000);
  });
});

describe("DELETE /api/1/composes/<id> refuses", () => {
  it.each([["removed", 3]])("%s → 400 with upstream's text", async (_name, state) => {
    const t = await testApp();
    await givenCompose(t.db, { state, timeToExpire: T0 + DAY_MS });
    const res = await del(t, 1);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: odcsError(
        400,
        "Compose (id=1) can not be removed, its state need to be in ['done', 'failed'].",
      ),
    });
    const [row] = await t.db.select().from(composes).where(eq(composes.id, 1));
    expect(row).toMatchObject({ state, timeToExpire: T0 + DAY_MS, removedBy: null });
  });

  it("an unknown id → 404 No such compose found.", async () => {
    const t = await testApp();
    const res = await del(t, 5);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 404,
      body: odcsError(404, "No such compose found."),
    });
  });

  it("a non-numeric id → 404 JSON", async () => {
    const t = await testApp();
    const res = await del(t, "x1");
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe("Not Found");
  });
});
