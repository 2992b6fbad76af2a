/**
 * Kills at moments of our choosing, worker side: for each moment of a
 * compose a real worker process (src/worker.ts) is stopped exactly there —
 * by its crash point (ODCS_TEST_CRASH_AT: it logs and SIGSTOPs itself), by
 * holding one of its downloads on the test HTTP repo, or by a shim of the
 * tool it runs (createrepo_c, xorriso) that waits — what is visible at that
 * moment is checked, it is killed with SIGKILL, and a new worker process
 * takes the job over. Then: the compose is done (or failed with a reason),
 * its published tree is exactly its compose_rpms (byte for byte, repodata
 * consistent, STATUS FINISHED) or, failed, its log only; nothing is left
 * in .staging or .removing; no job was completed twice; every state change
 * has its event; and the sweep, once it expires, removes it all.
 */
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { CrashPoint } from "../../src/crash-points.ts";
import { composeRpms } from "../../src/db/schema.ts";
import { expireComposes, removeOrphanDirs } from "../../src/sweep/expire.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import {
  doubleCompletions,
  leftoverProblems,
  procState,
  stateProblems,
  stoppedAt,
  treeProblems,
} from "../helpers/crash-invariants.ts";
import { tempDir } from "../helpers/db.ts";
import { DAY_MS } from "../helpers/given.ts";
import {
  composeHarness,
  LIBDNF_REPO,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

type Harness = Awaited<ReturnType<typeof composeHarness>>;

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

const REQUEST = { source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } };
const NAMES = ["abcde", "flac", "wget"];

/** A harness (in-process API on the real clock) and worker processes over its database. */
async function setup(config: Record<string, unknown> = {}) {
  const h = await composeHarness(config);
  h.clock.set(new Date()); // the worker processes use the real clock
  const cacheDir = tempDir("odcs-crash-cache-");
  const procs: ServiceProcess[] = [];
  const worker = async (id: string, env: Record<string, string> = {}) => {
    const p = await startService({
      entry: "src/worker.ts",
      env: {
        ODCS_DATABASE_URL: h.dbUrl,
        ODCS_TARGET_DIR: h.target,
        ODCS_TARGET_DIR_URL: "http://localhost/odcs",
        ODCS_CACHE_DIR: cacheDir,
        ODCS_WORKER_ID: id,
        ODCS_WORKER_LEASE_MS: "1000",
        ODCS_WORKER_POLL_MS: "20",
        ...Object.fromEntries(
          Object.entries(config).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]),
        ),
        ...env,
      },
      readyText: "worker started",
    });
    procs.push(p);
    closers.push(() => p.kill());
    return p;
  };
  return { h, worker, procs };
}

/** Everything that must hold once the compose `id` has settled. */
async function checkRecovered(
  h: Harness,
  procs: readonly ServiceProcess[],
  id: number,
  want: "done" | "failed",
): Promise<void> {
  const row = await h.row(id);
  expect(row.state, `compose ${id}: ${row.stateReason}`).toBe(want === "done" ? 2 : 4);
  if (want === "done") {
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect((await h.rpms(id)).map((r) => r.name).sort()).toEqual(NAMES);
  }
  expect(await stateProblems(h.db)).toEqual([]);
  expect(await treeProblems(h.db, h.target)).toEqual([]);
  // The worker clears the leftovers right after committing the outcome.
  await waitFor(async () => (await leftoverProblems(h.target)).length === 0 || undefined, {
    what: "no leftovers in .staging and .removing",
  }).catch(() => undefined);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect(doubleCompletions(procs.map((p) => p.output()))).toEqual([]);
  // Later, the sweep expires it and takes everything away.
  h.clock.set(new Date(Date.now() + 2 * DAY_MS));
  const deps = { db: h.db, now: () => h.clock.now(), log: silentLogger, targetDir: h.target };
  expect(await expireComposes(deps)).toEqual([id]);
  await removeOrphanDirs(deps);
  await removeLeftovers(deps);
  expect(existsSync(h.dir(id))).toBe(false);
  expect(await treeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect(await stateProblems(h.db)).toEqual([]);
}

/** Wait (bounded) until compose `id` is done or failed. */
async function settled(h: Harness, id: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => [2, 4].includes((await h.row(id)).state) || undefined, {
    timeoutMs,
    intervalMs: 20,
    what: `compose ${id} to settle`,
  });
}

/** Whether the published dir is absent, complete, or (never allowed) partial. */
function published(h: Harness, id: number): "absent" | "complete" | "partial" {
  const dir = h.dir(id);
  if (!existsSync(dir)) return "absent";
  const complete = [
    "STATUS",
    "compose/Temporary/x86_64/os/repodata/repomd.xml",
    `compose/Temporary/odcs-${id}.repo`,
    "compose/metadata/rpms.json",
    "pungi-stderr.log",
  ].every((f) => existsSync(join(dir, f)));
  return complete ? "complete" : "partial";
}

interface PointCase {
  point: CrashPoint;
  config?: Record<string, unknown>;
  /** What is served at the moment of the kill. */
  visible: "absent" | "complete";
  /** Checks of the moment itself (the process stopped there). */
  atMoment?: (h: Harness, id: number) => Promise<void>;
}

const attemptDir = (h: Harness, id: number, n: number) =>
  join(h.target, ".staging", `odcs-${id}`, `attempt-${n}`);

const POINT_CASES: PointCase[] = [
  {
    point: "generate:started",
    visible: "absent",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 1 });
      expect(await h.jobOf(id)).toMatchObject({ state: "running", attempts: 1 });
      expect(await h.rpms(id)).toEqual([]);
    },
  },
  {
    // createrepo_c reads the RPMs, so with it nothing of the repodata exists before they are all placed.
    point: "generate:placed",
    config: { ODCS_REPODATA_WRITER: "createrepo_c" },
    visible: "absent",
    atMoment: async (h, id) => {
      const repo = join(attemptDir(h, id, 1), "compose/Temporary/x86_64/os");
      const rpms = (await readdir(join(repo, "Packages"), { recursive: true })).filter((f) =>
        String(f).endsWith(".rpm"),
      );
      expect(rpms).toHaveLength(3);
      expect(existsSync(join(repo, "repodata/repomd.xml"))).toBe(false);
    },
  },
  {
    point: "generate:repodata",
    visible: "absent",
    atMoment: async (h, id) => {
      const repodata = join(attemptDir(h, id, 1), "compose/Temporary/x86_64/os/repodata");
      const files = await readdir(repodata);
      expect(files.some((f) => f.includes("primary"))).toBe(true);
      expect(files).not.toContain("repomd.xml");
    },
  },
  {
    point: "generate:staged",
    visible: "absent",
    atMoment: async (h, id) => {
      expect(existsSync(join(attemptDir(h, id, 1), "STATUS"))).toBe(true);
      // Recorded under the job's lease (listed once the compose is done).
      const rows = await h.db.select().from(composeRpms).where(eq(composeRpms.composeId, id));
      expect(rows.map((r) => r.name).sort()).toEqual(NAMES);
    },
  },
  {
    point: "generate:published",
    visible: "complete",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 1 });
      expect(await h.jobOf(id)).toMatchObject({ state: "running" });
    },
  },
  {
    point: "generate:done",
    visible: "complete",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 2 });
      expect(await h.jobOf(id)).toMatchObject({ state: "done" });
      // The done attempt's staging dir is still there: nothing after the commit ran.
      expect(existsSync(join(h.target, ".staging", `odcs-${id}`))).toBe(true);
    },
  },
];

describe("a worker killed at a crash point, then a new worker", () => {
  for (const c of POINT_CASES) {
    test(c.point, async () => {
      const { h, worker, procs } = await setup(c.config);
      const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: c.point });
      const { id } = await h.create(REQUEST);
      await stoppedAt(doomed, c.point);
      expect(published(h, id)).toBe(c.visible);
      await c.atMoment?.(h, id);
      await doomed.kill();
      await worker("rescuer");
      await settled(h, id);
      const job = await h.jobOf(id);
      // Killed after its commit, the first worker had completed the job itself.
      expect(job).toMatchObject({ state: "done", attempts: c.point === "generate:done" ? 1 : 2 });
      expect(published(h, id)).toBe("complete");
      await checkRecovered(h, procs, id, "done");
    }, 60_000);
  }

  test("mid-download: two RPMs fetched over HTTP, the third held", async () => {
    const srv = await repoServer(LIBDNF_REPO);
    closers.push(() => srv.close());
    const { h, worker, procs } = await setup({ ODCS_ALLOWED_REPO_URLS: srv.url });
    srv.hold(/\.rpm$/, 1, 2);
    const doomed = await worker("doomed");
    const { id } = await h.create({ source: { ...REQUEST.source, source: srv.url } });
    await waitFor(() => srv.held === 1 || undefined, { what: "the third RPM to be asked for" });
    expect(srv.requests.filter((p) => p.endsWith(".rpm"))).toHaveLength(3);
    expect(published(h, id)).toBe("absent");
    await doomed.kill();
    srv.release();
    await worker("rescuer");
    await settled(h, id);
    expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
    await checkRecovered(h, procs, id, "done");
  }, 60_000);

  for (const tool of ["createrepo_c", "xorriso"] as const) {
    test(`during ${tool}: the tool held by a shim, the worker killed, the orphaned tool let go`, async () => {
      const shims = tempDir("odcs-shim-");
      const real = tool === "createrepo_c" ? "/usr/bin/createrepo_c" : "/usr/bin/xorriso";
      await writeFile(
        join(shims, tool),
        `#!/bin/sh\necho $$ > "${shims}/pid"\nwhile [ ! -e "${shims}/release" ]; do sleep 0.02; done\nexec ${real} "$@"\n`,
      );
      await chmod(join(shims, tool), 0o755);
      const config =
        tool === "createrepo_c" ? { ODCS_REPODATA_WRITER: "createrepo_c" } : ({} as const);
      const { h, worker, procs } = await setup(config);
      const doomed = await worker("doomed", { PATH: `${shims}:${process.env.PATH ?? ""}` });
      const { id } = await h.create({
        ...REQUEST,
        ...(tool === "xorriso" ? { results: ["iso"] } : {}),
      });
      const pid = await waitFor(
        () => existsSync(join(shims, "pid")) && readPid(join(shims, "pid")),
        { what: `${tool} to be started` },
      );
      expect(published(h, id)).toBe("absent");
      await doomed.kill();
      // The tool outlives its worker and writes into the dead attempt's staging tree.
      await mkdir(join(shims, "release"));
      await waitFor(() => !["R", "S", "D"].includes(procState(pid) ?? "gone") || undefined, {
        timeoutMs: 20_000,
        what: `the orphaned ${tool} to end`,
      });
      await worker("rescuer");
      await settled(h, id);
      expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
      if (tool === "xorriso") {
        const iso = await readdir(join(h.dir(id), "compose/Temporary/x86_64/iso"));
        expect(iso.filter((f) => f.endsWith(".iso"))).toHaveLength(1);
      }
      await checkRecovered(h, procs, id, "done");
    }, 60_000);
  }

  test("after the publish rename on the last attempt: failed, its log only, no package set", async () => {
    const { h, worker, procs } = await setup({ ODCS_JOB_MAX_ATTEMPTS: 1 });
    const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: "generate:published" });
    const { id } = await h.create(REQUEST);
    await stoppedAt(doomed, "generate:published");
    expect(published(h, id)).toBe("complete");
    await doomed.kill();
    await worker("rescuer");
    await settled(h, id);
    expect((await h.row(id)).stateReason).toMatch(/gave up after 1 attempts/);
    expect(await h.db.select().from(composeRpms)).toEqual([]);
    // The rescuer takes the tree away right after the failure is committed.
    await waitFor(
      async () => (await readdir(h.dir(id))).join() === "pungi-stderr.log" || undefined,
      {
        what: "the failed compose's tree to go, its log kept",
      },
    );
    await checkRecovered(h, procs, id, "failed");
  }, 60_000);

  test("regeneration of a removed compose, killed after its publish rename", async () => {
    const { h, worker, procs } = await setup();
    const first = await h.run(REQUEST);
    expect(first.state).toBe(2);
    const original = (await h.rpms(first.id)).map((r) => `${r.name}-${r.version}-${r.release}`);
    const deps = { db: h.db, now: () => h.clock.now(), log: silentLogger, targetDir: h.target };
    h.clock.set(new Date(Date.now() + 2 * DAY_MS));
    expect(await expireComposes(deps)).toEqual([first.id]);
    h.clock.set(new Date());
    const res = await h.request(`/api/1/composes/${first.id}`, { method: "PATCH", body: "{}" });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    expect(id).not.toBe(first.id);
    const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: "generate:published" });
    await stoppedAt(doomed, "generate:published");
    expect(published(h, id)).toBe("complete");
    await doomed.kill();
    await worker("rescuer");
    await settled(h, id);
    expect((await h.rpms(id)).map((r) => `${r.name}-${r.version}-${r.release}`)).toEqual(original);
    expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
    await checkRecovered(h, procs, id, "done");
  }, 60_000);
});

function readPid(path: string): number | undefined {
  const text = readFileSync(path, "utf8").trim();
  return text === "" ? undefined : Number(text);
}
