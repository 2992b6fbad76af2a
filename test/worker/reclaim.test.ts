/**
 * A worker never claims a job it is still running. Found by
 * `npm run soak:crash -- --seed 34`: a worker (two slots) stopped past its
 * lease right after a claim; the server's sweep requeued the job; resumed,
 * the worker claimed it again in its other slot. Both executions then ran
 * under the same worker id, so every fence (`locked_by = worker`) let both
 * through: both passed the lease check before publishing, and one's rename
 * met the other's tree (ENOTEMPTY). The stalled execution must find its
 * lease lost, and the job go to another claim.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { eventChainProblems } from "../helpers/events.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
let srv: Awaited<ReturnType<typeof repoServer>>;
beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
});
afterAll(() => srv.close());
beforeEach(async () => {
  h = await composeHarness({ ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_WORKER_CONCURRENCY: "2" });
});
afterEach(async () => {
  srv.release();
  await h.stopAll();
});

test("a worker whose job was requeued while it still runs it leaves the job to another claim", async () => {
  const c = await h.create({
    source: { type: "repo", source: srv.url, packages: ["wget"] },
    flags: ["no_deps"],
  });
  const w = h.newWorker("w");
  srv.hold(/repomd\.xml$/, 1);
  expect(await w.fill()).toBe(1);
  await waitFor(() => srv.held === 1 || undefined, { what: "attempt 1 to fetch repomd" });

  // The worker stalls past its lease; the server's sweep requeues the job.
  h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
  const swept = await requeueAndFailJobs({ db: h.db, now: () => h.clock.now(), log: silentLogger });
  expect(swept.requeued).toBe(1);

  // Resumed, with attempt 1 still in hand: it claims nothing (before: attempt 2, under its own name).
  expect(await w.fill()).toBe(0);
  expect(await h.jobOf(c.id)).toMatchObject({ state: "queued", attempts: 1, lockedBy: null });

  const taker = h.newWorker("taker");
  expect(await taker.fill()).toBe(1);
  srv.release();
  await Promise.all([w.idle(), taker.idle()]);
  expect(await h.jobOf(c.id)).toMatchObject({ state: "done", lockedBy: "taker", attempts: 2 });
  expect(await h.get(c.id)).toMatchObject({ state_name: "done" });
  expect(await eventChainProblems(h.db)).toEqual([]);
});
