/**
 * Fencing on the worker's failure and completion paths (issue 9, item 7):
 * an execution that lost its lease, or whose outcome did not commit,
 * deletes no other execution's staging tree; publishing a failed compose's
 * log ignores only a missing staging dir and surfaces every other error.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { type Logger, silentLogger } from "../../src/api/deps.ts";
import { setWriteFault } from "../../src/db/client.ts";
import { claimNextJob } from "../../src/db/jobs.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { attemptDir, failGenerate, runGenerate } from "../../src/worker/handlers/generate.ts";
import { LeaseLostError } from "../../src/worker/lease.ts";
import { stagingDir } from "../../src/worker/paths.ts";
import { eventChainProblems } from "../helpers/events.ts";
import { handJobContext } from "../helpers/job-context.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
let srv: Awaited<ReturnType<typeof repoServer>>;
beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
});
afterAll(() => srv.close());
beforeEach(async () => {
  h = await composeHarness({ ODCS_ALLOWED_REPO_URLS: srv.url });
});
afterEach(async () => {
  setWriteFault(h.db, undefined);
  srv.release();
  await h.stopAll();
});

function recordingLogger(into: { level: string; msg: string; fields?: unknown }[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    into.push({ level, msg, fields });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

test("a worker that lost its lease fails nothing and deletes nothing of the execution that took the job over", async () => {
  const c = await h.create({
    source: { type: "repo", source: srv.url, packages: ["wget"] },
    flags: ["no_deps"],
  });
  const now = h.clock.now().getTime();
  const stale = await claimNextJob(h.db, "stale", now, h.config.ODCS_WORKER_LEASE_MS);
  if (!stale) throw new Error("no job claimed");
  h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
  const taker = h.newWorker("taker");
  srv.hold(/repomd\.xml$/, 1);
  expect(await taker.fill()).toBe(1); // requeues the stale claim, takes attempt 2
  await waitFor(() => srv.held === 1 || undefined, { what: "the taker to fetch repomd" });
  const takersTree = attemptDir(h.target, c.id, 2);
  expect(existsSync(takersTree)).toBe(true);

  const ctx = handJobContext(h, stale);
  await expect(failGenerate(c.id, "the stale worker's error", ctx)).rejects.toBeInstanceOf(
    LeaseLostError,
  );
  expect(existsSync(takersTree)).toBe(true);
  expect(existsSync(h.dir(c.id))).toBe(false);
  expect((await h.row(c.id)).state).toBe(1);

  srv.release();
  await taker.idle();
  expect(await h.get(c.id)).toMatchObject({ state_name: "done" });
  expect(await eventChainProblems(h.db)).toEqual([]);
});

test("a worker that lost its lease before starting a compose another worker finished does not report it done", async () => {
  // Found by `npm run soak` (seed 1): a worker stopped past its lease right
  // after its claim resumed, found the compose done by the worker that took
  // the job over, and logged "job done" — a double completion — though its
  // unfenced completion had changed no row.
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_deps"],
  });
  const now = h.clock.now().getTime();
  const stale = await claimNextJob(h.db, "stale", now, h.config.ODCS_WORKER_LEASE_MS);
  if (!stale) throw new Error("no job claimed");
  h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
  const taker = h.newWorker("taker");
  expect(await taker.fill()).toBe(1);
  await taker.idle();
  expect(await h.row(c.id)).toMatchObject({ state: 2 });
  const ctx = handJobContext(h, stale);
  await expect(runGenerate(c.id, ctx)).rejects.toBeInstanceOf(LeaseLostError);
  expect(await h.jobOf(c.id)).toMatchObject({ state: "done", lockedBy: "taker", attempts: 2 });
  expect(await h.row(c.id)).toMatchObject({ state: 2 });
});

test("an execution whose completion did not commit leaves the other attempts' trees alone", async () => {
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_deps"],
  });
  // The tree of another execution of the job, as a worker that took it over would have.
  const other = join(stagingDir(h.target, c.id), "attempt-7");
  await mkdir(other, { recursive: true });
  // The completion's transaction cannot begin: the lease is gone by then.
  setWriteFault(h.db, (statement) => {
    if (statement === "BEGIN") throw new LeaseLostError("lease lost before completion");
  });
  const w = h.newWorker("w");
  expect(await w.fill()).toBe(1);
  await w.idle();
  setWriteFault(h.db, undefined);
  expect(existsSync(other)).toBe(true);
  expect(await h.row(c.id)).toMatchObject({ state: 1 });
  expect(await h.jobOf(c.id)).toMatchObject({ state: "running", lockedBy: "w" });
});

test("a done compose's commit clears the leftovers of earlier attempts", async () => {
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_deps"],
  });
  await mkdir(join(stagingDir(h.target, c.id), "attempt-7"), { recursive: true });
  const w = h.newWorker("w");
  expect(await w.fill()).toBe(1);
  await w.idle();
  expect((await h.row(c.id)).state).toBe(2);
  expect(existsSync(stagingDir(h.target, c.id))).toBe(false);
});

test("publishing a failed compose's log: an error other than a missing staging dir is logged with the compose, its failure stays recorded", async () => {
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["no-such-package"] },
  });
  // The staging tree on another file system: the rename that publishes it fails (EXDEV).
  const elsewhere = await mkdtemp("/dev/shm/odcs-staging-");
  try {
    expect(statSync(elsewhere).dev).not.toBe(statSync(h.target).dev);
    await mkdir(join(h.target, ".staging"), { recursive: true });
    await symlink(elsewhere, stagingDir(h.target, c.id));
    const logged: { level: string; msg: string; fields?: unknown }[] = [];
    const w = h.newWorker("w", {
      log: recordingLogger(logged),
      config: { ODCS_JOB_MAX_ATTEMPTS: 1 },
    });
    expect(await w.fill()).toBe(1);
    await w.idle();
    expect(await h.get(c.id)).toMatchObject({
      state_name: "failed",
      state_reason:
        "Error while generating compose: The following requested packages are not present in the generated compose: no-such-package.",
    });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed" });
    const errors = logged.filter((l) => l.level === "error");
    expect(errors).toEqual([
      {
        level: "error",
        msg: "settling a job failure failed",
        fields: expect.objectContaining({
          compose: c.id,
          err: expect.stringMatching(
            new RegExp(`compose ${c.id} failed, and publishing its log from .* failed too: EXDEV`),
          ),
        }),
      },
    ]);
    // Nothing was deleted: the log is still where it was written.
    expect(existsSync(join(elsewhere, "attempt-1", "pungi-stderr.log"))).toBe(true);
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
  }
});

test("a compose that fails before its staging dir exists is failed without an error", async () => {
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
  });
  const now = h.clock.now().getTime();
  const job = await claimNextJob(h.db, "w", now, h.config.ODCS_WORKER_LEASE_MS);
  if (!job) throw new Error("no job claimed");
  await failGenerate(c.id, "failed early", handJobContext(h, job, "w"));
  expect(await h.get(c.id)).toMatchObject({
    state_name: "failed",
    state_reason: "Error while generating compose: failed early",
  });
  expect(existsSync(h.dir(c.id))).toBe(false);
  expect(await eventChainProblems(h.db)).toEqual([]);
});

// Found by `npm run soak:crash -- --seed 34`: a worker (two slots) stopped
// past its lease right after a claim; the server's sweep requeued the job;
// resumed, the worker claimed it again in its other slot. Both executions
// then ran under the same worker id, so every fence (`locked_by = worker`)
// let both through: both passed the lease check before publishing, and
// one's rename met the other's tree (ENOTEMPTY). A worker never claims a
// job it still runs: the stalled execution finds its lease lost, and the
// job goes to another claim.
test("a worker whose job was requeued while it still runs it leaves the job to another claim", async () => {
  const c = await h.create({
    source: { type: "repo", source: srv.url, packages: ["wget"] },
    flags: ["no_deps"],
  });
  const w = h.newWorker("w", { config: { ODCS_WORKER_CONCURRENCY: "2" } });
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
