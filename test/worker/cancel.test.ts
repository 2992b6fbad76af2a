/**
 * Cancelling a generating compose (DELETE) with real Workers on one libSQL
 * file: the worker notices within ODCS_WORKER_CANCEL_CHECK_MS, aborts its
 * downloads (an HTTP repo and Koji files behind a proxy that stalls the RPM
 * bodies), publishes nothing but the log, retries nothing, leaves the
 * reason alone and takes the next job. The races with the `done` commit are
 * run in both orders by holding the job at a named point (`WorkerOptions.at`).
 */
import { existsSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { events } from "../../src/db/schema.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import type { Worker } from "../../src/worker/loop.ts";
import { treeToken } from "../../src/worker/published.ts";
import { tempDir } from "../helpers/db.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { holdAt } from "../helpers/hold.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { publishedTreeProblems } from "../helpers/published-tree.ts";
import { buildRpms } from "../helpers/rpmbuild.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

/** What the README promises, with room for a loaded CI machine. */
const CANCEL_BOUND_MS = 5_000;
const RPM = /\.rpm$/;

let srv: Awaited<ReturnType<typeof repoServer>>;
let proxy: FaultProxy;
let model: KojiModel;
let hub: KojiHub;
let kojiProxy: FaultProxy;
beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
  proxy = await startFaultProxy(srv.url);
  const built = await buildRpms([
    { name: "cx-app", version: "1.0", release: "1", files: ["/usr/share/cx-app"] },
  ]);
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("cx-tag", { arches: ["x86_64"] });
  model.addPackage("cx-tag", "cx-app");
  model.importBuilds([{ rpms: built.map((b) => b.path) }]);
  model.tagBuild("cx-tag", "cx-app-1.0-1");
  hub = await startKojiHub(model);
  kojiProxy = await startFaultProxy(hub.topurl.replace(/\/$/, ""));
}, 120_000);
afterAll(async () => {
  await proxy.close();
  await kojiProxy.close();
  await srv.close();
  await hub.close();
});

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  proxy.clear();
  kojiProxy.clear();
  await h.stopAll();
});

const del = async (id: number) => {
  const res = await h.request(`/api/1/composes/${id}`, { method: "DELETE" });
  return { status: res.status, body: (await res.json()) as unknown };
};
const CANCELED = (id: number) => ({
  status: 202,
  body: { message: `Compose (id=${id}) has been canceled`, status: 202 },
});

async function eventsOf(id: number) {
  const rows = await h.db.select().from(events).where(eq(events.composeId, id)).orderBy(events.id);
  return rows.map((e) => [e.fromState, e.toState, e.stateReason]);
}

/** Only the log is left of the compose, and no staging tree. */
async function onlyLogLeft(id: number) {
  expect(await readdir(h.dir(id))).toEqual(["pungi-stderr.log"]);
  expect(existsSync(join(h.target, ".staging", `odcs-${id}`))).toBe(false);
  return readFile(join(h.dir(id), "pungi-stderr.log"), "utf8");
}

/** DELETE once the proxy holds `n` RPM bodies; how long until the worker closed every one. */
async function cancelWhileDownloading(p: FaultProxy, id: number, w: Worker): Promise<number> {
  await p.seen(RPM);
  await waitFor(async () => (await h.row(id)).state === 1 || undefined, { what: "generating" });
  const stalled = () => p.requests.filter((r) => RPM.test(r.path));
  expect(stalled().every((r) => !r.aborted)).toBe(true);
  const t0 = Date.now();
  expect(await del(id)).toEqual(CANCELED(id));
  await waitFor(() => stalled().every((r) => r.aborted) || undefined, {
    timeoutMs: CANCEL_BOUND_MS,
    intervalMs: 5,
    what: "the worker to close its stalled downloads",
  });
  const closedAfter = Date.now() - t0;
  await waitFor(() => w.busy === 0 || undefined, { what: "the worker to settle the job" });
  return closedAfter;
}

describe("cancel aborts downloads", () => {
  test("an HTTP repo stalled mid-RPM: connections closed within the bound, failed 'Canceled by', only the log, no retry, next job done", async () => {
    h = await composeHarness({
      ODCS_ALLOWED_REPO_URLS: proxy.url,
      ODCS_WORKER_POLL_MS: 20,
      ODCS_JOB_MAX_ATTEMPTS: 3,
    });
    proxy.rule({ match: RPM, fault: "stall" });
    const c = await h.create({
      source: { type: "repo", source: proxy.url, packages: ["wget"] },
      flags: ["no_deps", "no_reuse"],
    });
    const w = h.newWorker("w1");
    w.start();
    const ms = await cancelWhileDownloading(proxy, c.id, w);
    expect(ms).toBeLessThan(CANCEL_BOUND_MS);
    console.log(`cancel → stalled HTTP download closed after ${ms} ms`);

    expect(await h.get(c.id)).toMatchObject({
      state_name: "failed",
      state_reason: "Canceled by anonymous",
      time_done: null,
    });
    // Ended by the cancel, not retried: one attempt, no second claim.
    expect(await h.jobOf(c.id)).toMatchObject({
      state: "failed",
      lastError: "canceled",
      attempts: 1,
    });
    expect(await eventsOf(c.id)).toEqual([
      [null, 0, null],
      [0, 1, "Compose thread started"],
      [1, 4, "Canceled by anonymous"],
    ]);
    expect(await onlyLogLeft(c.id)).toMatch(/Canceled by anonymous: stopped, nothing published/);

    // The worker takes the next job.
    proxy.clear();
    const next = await h.create({
      source: { type: "repo", source: proxy.url, packages: ["wget"] },
      flags: ["no_deps", "no_reuse"],
    });
    w.wake();
    await waitFor(async () => (await h.row(next.id)).state === 2 || undefined, {
      timeoutMs: 20_000,
      what: "the next compose done",
    });
    expect((await h.rpms(next.id)).map((r) => r.name)).toEqual(["wget"]);
    expect(await h.row(c.id)).toMatchObject({ state: 4, stateReason: "Canceled by anonymous" });
  });

  test("a Koji tag compose stalled mid-download of its RPM", async () => {
    h = await composeHarness({
      ODCS_KOJI_HUB_URL: hub.hubUrl,
      ODCS_KOJI_TOPURL: kojiProxy.url,
      ODCS_CACHE_DIR: tempDir("odcs-cache-"),
      ODCS_WORKER_POLL_MS: 20,
    });
    kojiProxy.rule({ match: RPM, fault: "stall" });
    const c = await h.create({
      source: { type: "tag", source: "cx-tag", packages: ["cx-app"] },
      flags: ["no_reuse"],
    });
    const w = h.newWorker("k1");
    w.start();
    const ms = await cancelWhileDownloading(kojiProxy, c.id, w);
    expect(ms).toBeLessThan(CANCEL_BOUND_MS);
    expect(await h.row(c.id)).toMatchObject({ state: 4, stateReason: "Canceled by anonymous" });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed", attempts: 1 });
    await onlyLogLeft(c.id);
  });
});

describe("cancel against the done commit: the transition decides", () => {
  const body = {
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_deps", "no_reuse"],
  };

  test("cancel first: the worker's commit is fenced out and it takes back the tree it published", async () => {
    h = await composeHarness({});
    const c = await h.create(body);
    const held = holdAt("published");
    const w = h.newWorker("racer", { at: held.at });
    expect(await w.fill()).toBe(1);
    await held.reached;
    expect(existsSync(join(h.dir(c.id), "compose"))).toBe(true);
    expect(await del(c.id)).toEqual(CANCELED(c.id));
    held.go();
    await w.idle();
    expect(await h.row(c.id)).toMatchObject({ state: 4, stateReason: "Canceled by anonymous" });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "failed", lastError: "canceled" });
    expect(await onlyLogLeft(c.id)).toContain("compose finished, publishing");
    expect(await h.rpms(c.id)).toEqual([]);
    const done = await h.db
      .select()
      .from(events)
      .where(and(eq(events.composeId, c.id), eq(events.toState, 2)));
    expect(done).toEqual([]);
  });

  test("a worker stopped past its lease while it discards a cancel: a sweep takes its unchosen log tree, the worker writes it again where the database points (was: a link to nothing)", async () => {
    h = await composeHarness({ ODCS_WORKER_LEASE_MS: 60_000 });
    const c = await h.create(body);
    // Held before its tree was ever published or linked.
    const running = holdAt("staged");
    const moved = holdAt("discard-moved");
    const w = h.newWorker("stopped", {
      at: async (p) => {
        await running.at(p);
        await moved.at(p);
      },
    });
    expect(await w.fill()).toBe(1);
    await running.reached;
    expect(await del(c.id)).toEqual(CANCELED(c.id));
    running.go();
    await moved.reached;
    // Its log tree is moved to its published place, nothing links or chooses it yet.
    const token = treeToken(1, "stopped");
    const mine = join(h.target, ".published", `odcs-${c.id}`, token);
    expect(existsSync(join(mine, "pungi-stderr.log"))).toBe(true);
    // Past the lease, a sweep takes what nobody chose.
    h.clock.advance(61_000);
    await removeLeftovers({
      db: h.db,
      log: silentLogger,
      targetDir: h.target,
      now: () => h.clock.now(),
    });
    expect(existsSync(mine)).toBe(false);
    moved.go();
    await w.idle();
    expect(await h.row(c.id)).toMatchObject({
      state: 4,
      stateReason: "Canceled by anonymous",
      publishedAttempt: token,
    });
    expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${token}`);
    expect(await onlyLogLeft(c.id)).toContain("Canceled by anonymous: stopped, nothing published");
    expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  });

  test("done first: the DELETE falls back to the removal rules and the tree stays", async () => {
    h = await composeHarness({});
    const c = await h.create(body);
    const held = holdAt("committed");
    const w = h.newWorker("racer", { at: held.at });
    expect(await w.fill()).toBe(1);
    await held.reached;
    // The job is still running in the worker, but its compose is done.
    expect(w.busy).toBe(1);
    expect(await del(c.id)).toEqual({
      status: 202,
      body: {
        message: `The delete request for compose (id=${c.id}) has been accepted and will be processed by backend later.`,
        status: 202,
      },
    });
    expect(await w.checkCancels()).toEqual([]);
    held.go();
    await w.idle();
    expect(await h.row(c.id)).toMatchObject({
      state: 2,
      stateReason: "Compose is generated successfully",
      removedBy: "anonymous",
    });
    expect(await h.jobOf(c.id)).toMatchObject({ state: "done" });
    expect(existsSync(join(h.dir(c.id), "compose", "Temporary"))).toBe(true);
    expect((await h.rpms(c.id)).map((r) => r.name)).toEqual(["wget"]);
  });
});
