/**
 * The job queue and leases with real Workers on one libSQL file: no job runs
 * twice, expired leases are requeued, failures retry with backoff or fail
 * the compose, shutdown releases, and a worker that lost its lease writes
 * nothing. Time is the fake clock; a test HTTP repo server that holds
 * requests catches a worker mid-compose.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { events, jobs } from "../../src/db/schema.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { MAX_RETRY_DELAY_MS, retryDelayMs } from "../../src/worker/backoff.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const REPOMD = /repomd\.xml$/;

let h: Awaited<ReturnType<typeof composeHarness>>;
let srv: Awaited<ReturnType<typeof repoServer>>;
let LEASE_MS: number;
beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
});
afterAll(() => srv.close());
// A fresh database and target dir per test: a failing test leaves no job behind for the next.
beforeEach(async () => {
  h = await composeHarness({ ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_WORKER_POLL_MS: 10 });
  LEASE_MS = h.config.ODCS_WORKER_LEASE_MS;
});
afterEach(async () => {
  srv.release();
  srv.fail(undefined);
  await h.stopAll();
});

const urlCompose = () =>
  h.create({ source: { type: "repo", source: srv.url, packages: ["wget"] }, flags: ["no_deps"] });

async function doneEvents(id: number): Promise<number> {
  const rows = await h.db
    .select()
    .from(events)
    .where(and(eq(events.composeId, id), eq(events.toState, 2)));
  return rows.length;
}

async function attemptLines(id: number): Promise<string[]> {
  const log = await readFile(join(h.dir(id), "pungi-stderr.log"), "utf8");
  return log.split("\n").filter((l) => / attempt \d+ on worker /.test(l));
}

describe("no job runs twice", () => {
  test("30 composes, 3 workers on separate connections: each generated exactly once", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      const c = await h.create({
        source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
        // Built each, not reused: this counts generations.
        flags: ["no_deps", "no_reuse"],
      });
      ids.push(c.id);
    }
    const workers = ["A", "B", "C"].map((name) =>
      h.newWorker(name, { db: h.connect(), config: { ODCS_WORKER_CONCURRENCY: 2 } }),
    );
    for (const w of workers) w.start();
    await waitFor(
      async () => {
        const states = await Promise.all(ids.map(async (id) => (await h.row(id)).state));
        return states.every((s) => s === 2);
      },
      { timeoutMs: 30_000, what: "30 composes done" },
    );
    await Promise.all(workers.map((w) => w.stop(5_000)));
    const byWorker = new Map<string, number>();
    for (const id of ids) {
      const lines = await attemptLines(id);
      expect(lines, `compose ${id}`).toHaveLength(1);
      const who = /on worker (\w+)/.exec(lines[0] ?? "")?.[1] ?? "?";
      byWorker.set(who, (byWorker.get(who) ?? 0) + 1);
      expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 1 });
      expect(await doneEvents(id)).toBe(1);
      expect((await h.rpms(id)).map((r) => r.name)).toEqual(["wget"]);
    }
    expect([...byWorker.values()].reduce((a, b) => a + b, 0)).toBe(30);
    expect(await readdir(join(h.target, ".staging"))).toEqual([]);
  });
});

describe("leases", () => {
  test("an expired lease is requeued and the job runs again; the stale worker writes nothing", async () => {
    const c = await urlCompose();
    const a = h.newWorker("stale");
    srv.hold(REPOMD);
    expect(await a.fill()).toBe(1);
    await waitFor(() => srv.held === 1 || undefined, { what: "worker A to fetch repomd" });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "running", lockedBy: "stale", attempts: 1 });

    // Not yet expired: nothing to requeue.
    h.clock.advance(LEASE_MS - 1);
    expect(
      (await requeueAndFailJobs({ db: h.db, now: () => h.clock.now(), log: silentLogger }))
        .requeued,
    ).toBe(0);
    h.clock.advance(2);
    expect(
      await requeueAndFailJobs({ db: h.db, now: () => h.clock.now(), log: silentLogger }),
    ).toEqual({
      requeued: 1,
      failed: [],
    });
    expect(await h.jobOf(c.id)).toMatchObject({
      state: "queued",
      lockedBy: null,
      attempts: 1,
      lastError: "worker lease expired",
    });

    const b = h.newWorker("fresh");
    expect(await b.fill()).toBe(1);
    expect(await h.jobOf(c.id)).toMatchObject({ state: "running", lockedBy: "fresh", attempts: 2 });
    await waitFor(() => srv.held === 2 || undefined, { what: "worker B to fetch repomd" });
    srv.release();
    await Promise.all([a.idle(), b.idle()]);

    expect(await h.get(c.id)).toMatchObject({
      state_name: "done",
      state_reason: "Compose is generated successfully",
    });
    expect(await h.jobOf(c.id)).toMatchObject({
      state: "done",
      attempts: 2,
      lastError: "worker lease expired",
    });
    expect(await doneEvents(c.id)).toBe(1);
    expect(await attemptLines(c.id)).toEqual([expect.stringMatching(/attempt 2 on worker fresh$/)]);
    expect((await h.rpms(c.id)).length).toBe(1);
  });

  test("a worker that lost its lease and then fails does not fail the compose or touch its files", async () => {
    const c = await urlCompose();
    const a = h.newWorker("paused");
    const before = srv.held;
    srv.hold(REPOMD, 1);
    expect(await a.fill()).toBe(1);
    await waitFor(() => srv.held === before + 1 || undefined, { what: "worker A to fetch repomd" });
    h.clock.advance(LEASE_MS + 1);

    const b = h.newWorker("taker");
    expect(await b.fill()).toBe(1); // requeues A's expired job and claims it
    await b.idle();
    expect((await h.get(c.id)).state_name).toBe("done");

    // A resumes and gets a non-retryable error: it must not write anything.
    srv.fail(REPOMD, 404);
    srv.release();
    await a.idle();
    srv.fail(undefined);

    expect(await h.get(c.id)).toMatchObject({
      state_name: "done",
      state_reason: "Compose is generated successfully",
    });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "done", attempts: 2 });
    expect(existsSync(join(h.dir(c.id), "compose/Temporary/x86_64/os/repodata/repomd.xml"))).toBe(
      true,
    );
    expect(await attemptLines(c.id)).toEqual([expect.stringMatching(/attempt 2 on worker taker$/)]);
  });

  test("a worker alone (no sweep) fails a dead worker's job that was on its last attempt", async () => {
    const c = await urlCompose();
    await h.db.update(jobs).set({ maxAttempts: 1 }).where(eq(jobs.composeId, c.id));
    const a = h.newWorker("dies");
    const before = srv.held;
    srv.hold(REPOMD);
    expect(await a.fill()).toBe(1);
    await waitFor(() => srv.held === before + 1 || undefined, { what: "worker to fetch repomd" });
    h.clock.advance(LEASE_MS + 1);
    const b = h.newWorker("survivor");
    expect(await b.fill()).toBe(0);
    expect(await h.get(c.id)).toMatchObject({
      state_name: "failed",
      state_reason:
        "Error while generating compose: gave up after 1 attempts; last error: worker lease expired",
    });
    srv.release();
    await a.idle();
    expect((await h.get(c.id)).state_name).toBe("failed");
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed", attempts: 1 });
  });

  test("graceful stop releases the running job without using an attempt", async () => {
    const c = await urlCompose();
    const a = h.newWorker("stopping");
    const before = srv.held;
    srv.hold(REPOMD);
    expect(await a.fill()).toBe(1);
    await waitFor(() => srv.held === before + 1 || undefined, { what: "worker to fetch repomd" });
    await a.stop(0); // grace over at once: abort and release
    expect(await h.jobOf(c.id)).toMatchObject({
      state: "queued",
      attempts: 0,
      lockedBy: null,
      leaseUntil: null,
    });
    expect(await a.fill()).toBe(0); // a stopped worker claims nothing

    srv.release();
    const b = h.newWorker("next");
    expect(await b.fill()).toBe(1);
    await b.idle();
    expect((await h.get(c.id)).state_name).toBe("done");
    expect(await h.jobOf(c.id)).toMatchObject({ state: "done", attempts: 1 });
    expect(await attemptLines(c.id)).toEqual([expect.stringMatching(/attempt 1 on worker next$/)]);
  });
});

describe("failures", () => {
  test("a retryable failure backs off (run_at in the future), then the retry succeeds", async () => {
    const c = await urlCompose();
    const w = h.newWorker("retrier");
    srv.fail(REPOMD, 503);
    expect(await w.fill()).toBe(1);
    await w.idle();
    const now = h.clock.now().getTime();
    const job = await h.jobOf(c.id);
    expect(job).toMatchObject({
      state: "queued",
      attempts: 1,
      lockedBy: null,
      lastError: `fetching ${srv.url}/repodata/repomd.xml answered HTTP 503`,
    });
    // e^1 s ± 20 %.
    expect(job.runAt - now).toBeGreaterThanOrEqual(Math.floor(Math.E * 800));
    expect(job.runAt - now).toBeLessThanOrEqual(Math.ceil(Math.E * 1200));
    expect((await h.get(c.id)).state_name).toBe("generating");

    srv.fail(undefined);
    expect(await w.fill()).toBe(0); // not due yet
    h.clock.advance(job.runAt - now);
    expect(await w.fill()).toBe(1);
    await w.idle();
    expect((await h.get(c.id)).state_name).toBe("done");
    expect(await h.jobOf(c.id)).toMatchObject({ state: "done", attempts: 2 });
  });

  test("a job out of attempts fails its compose with the last error as reason", async () => {
    const c = await urlCompose();
    await h.db.update(jobs).set({ maxAttempts: 2 }).where(eq(jobs.composeId, c.id));
    const w = h.newWorker("doomed");
    srv.fail(REPOMD, 502);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(MAX_RETRY_DELAY_MS);
      expect(await w.fill()).toBe(1);
      await w.idle();
    }
    srv.fail(undefined);
    expect(await h.get(c.id)).toMatchObject({
      state_name: "failed",
      state_reason: `Error while generating compose: fetching ${srv.url}/repodata/repomd.xml answered HTTP 502`,
    });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed", attempts: 2 });
    h.clock.advance(MAX_RETRY_DELAY_MS);
    expect(await w.fill()).toBe(0);
    // The failed compose keeps its log at its toplevel URL, and no compose/ tree.
    expect(await attemptLines(c.id)).toEqual([
      expect.stringMatching(/attempt 2 on worker doomed$/),
    ]);
    expect(existsSync(join(h.dir(c.id), "compose"))).toBe(false);
  });

  test("a compose over the time limit fails with the ODCS reason", async () => {
    const c = await urlCompose();
    const w = h.newWorker("slow", { config: { ODCS_GENERATE_TIMEOUT_SECONDS: 1 } });
    const before = srv.held;
    srv.hold(REPOMD);
    expect(await w.fill()).toBe(1);
    await w.idle();
    srv.release();
    expect(srv.held).toBe(before + 1);
    expect(await h.get(c.id)).toMatchObject({
      state_name: "failed",
      state_reason:
        "Error while generating compose: Compose has taken more time than allowed by configuration (1 seconds)",
    });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed", attempts: 1 });
  });

  test("retryDelayMs: e^attempts seconds, jittered ±20 %, never above the cap", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(Math.round(Math.E * 1000));
    expect(retryDelayMs(2, () => 0)).toBe(Math.round(Math.exp(2) * 800));
    for (let a = 0; a < 30; a++)
      for (const r of [0, 0.5, 1])
        expect(retryDelayMs(a, () => r)).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(100, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
  });
});

test("the queue table never holds two queued jobs of one compose", async () => {
  const rows = await h.db
    .select({ composeId: jobs.composeId, n: sql<number>`count(*)` })
    .from(jobs)
    .where(eq(jobs.state, "queued"))
    .groupBy(jobs.composeId);
  expect(rows.every((r) => r.n === 1)).toBe(true);
});
