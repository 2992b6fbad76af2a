/**
 * Cancelling generating composes of the real service process (API, worker
 * and sweep in one, src/main.ts): `odcs delete` while `xorriso` runs kills
 * it (its pid gone); a DELETE while an HTTP repo's RPM bodies stall closes
 * the connections; both within a bound, leaving only the log, the job not
 * retried, a `failed` event with the reason; then the worker builds the
 * next compose. `xorriso` is reached through a wrapper on the service's
 * PATH that records its pid and holds it at start (opening a FIFO nobody
 * writes), so the cancel lands while the tool runs whatever the machine's speed.
 *
 * The worker's own check runs only every minute here (ODCS_WORKER_CANCEL_CHECK_MS
 * at its maximum): an abort within the bound is the API waking the worker
 * of its process directly (`onComposeCanceled`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BUSY_TIMEOUT_MS, createDb, type Db } from "../../src/db/client.ts";
import { events, jobs } from "../../src/db/schema.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/db.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  type ComposeJson,
  LIBDNF_REPO,
  postCompose,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

/** The worker's periodic check: far beyond the bound, so it cannot be what aborts. */
const CANCEL_CHECK_MS = 60_000;
const CANCEL_BOUND_MS = 5_000;
const RPM = /\.rpm$/;

const wrapDir = tempDir("odcs-wrap-");
const HOLD = join(wrapDir, "hold");
const PIDS = join(wrapDir, "xorriso.pids");

let srv: Awaited<ReturnType<typeof repoServer>>;
let proxy: FaultProxy;
let svc: ServiceProcess;
let db: Db;
beforeAll(async () => {
  const real = execFileSync("sh", ["-c", "command -v xorriso"]).toString().trim();
  execFileSync("mkfifo", [HOLD]);
  writeFileSync(
    join(wrapDir, "xorriso"),
    `#!/bin/sh\necho $$ >> '${PIDS}'\nif [ -p '${HOLD}' ]; then read _ < '${HOLD}'; fi\nexec '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  srv = await repoServer(LIBDNF_REPO);
  proxy = await startFaultProxy(srv.url);
  svc = await startService({
    env: {
      PATH: `${wrapDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      ODCS_ALLOWED_REPO_URLS: proxy.url,
      ODCS_WORKER_CONCURRENCY: "1",
      ODCS_WORKER_CANCEL_CHECK_MS: String(CANCEL_CHECK_MS),
    },
  });
  db = createDb(createClient({ url: svc.dbUrl, timeout: BUSY_TIMEOUT_MS }));
});
afterAll(async () => {
  rmSync(HOLD, { force: true });
  expect(await svc.stop()).toBe(0);
  await proxy.close();
  await srv.close();
});

const get = async (id: number) =>
  (await (await fetch(`${svc.url}/api/1/composes/${id}`)).json()) as ComposeJson & {
    state_reason: string;
  };
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The cancelled compose: failed by the cancel, one attempt, its event, only the log on disk. */
async function expectCanceled(id: number) {
  expect(await get(id)).toMatchObject({
    state_name: "failed",
    state_reason: "Canceled by anonymous",
  });
  const [job] = await db.select().from(jobs).where(eq(jobs.composeId, id));
  expect(job).toMatchObject({ state: "failed", lastError: "canceled", attempts: 1 });
  const evs = await db.select().from(events).where(eq(events.composeId, id)).orderBy(events.id);
  expect(evs.at(-1)).toMatchObject({
    fromState: 1,
    toState: 4,
    stateReason: "Canceled by anonymous",
  });
  await waitFor(() => !existsSync(join(svc.targetDir, ".staging", `odcs-${id}`)) || undefined, {
    what: "the staging tree removed",
  });
  expect(await readdir(join(svc.targetDir, `odcs-${id}`))).toEqual(["pungi-stderr.log"]);
}

describe("cancelling a generating compose of the running service", () => {
  test("odcs delete while xorriso runs: success printed, xorriso killed, only the log left", async () => {
    const c = await postCompose(svc.url, {
      source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
      flags: ["no_deps", "no_reuse"],
      results: ["iso"],
    });
    const pid = await waitFor(
      () => (existsSync(PIDS) ? Number(readFileSync(PIDS, "utf8").split("\n")[0]) : undefined),
      { timeoutMs: 30_000, what: "xorriso to start" },
    );
    expect(isAlive(pid)).toBe(true);
    expect((await get(c.id)).state_name).toBe("generating");
    const run = await runCli(["--server", svc.url, "delete", String(c.id)]);
    const t0 = Date.now(); // the CLI's exit: the cancel is committed
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      message: `Compose (id=${c.id}) has been canceled`,
      status: 202,
    });
    await waitFor(() => !isAlive(pid) || undefined, {
      timeoutMs: CANCEL_BOUND_MS,
      intervalMs: 5,
      what: `xorriso (pid ${pid}) killed`,
    });
    console.log(`odcs delete exited → xorriso gone after ${Date.now() - t0} ms`);
    await expectCanceled(c.id);
  });

  test("DELETE while an HTTP repo's RPM stalls: connections closed, then the next compose is built", async () => {
    rmSync(HOLD, { force: true }); // xorriso runs freely from now on
    proxy.rule({ match: RPM, fault: "stall" });
    const c = await postCompose(svc.url, {
      source: { type: "repo", source: proxy.url, packages: ["wget"] },
      flags: ["no_deps", "no_reuse"],
    });
    await proxy.seen(RPM);
    const stalled = () => proxy.requests.filter((r) => RPM.test(r.path));
    expect(stalled().some((r) => r.aborted)).toBe(false);
    const t0 = Date.now();
    const res = await fetch(`${svc.url}/api/1/composes/${c.id}`, { method: "DELETE" });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 202,
      body: { message: `Compose (id=${c.id}) has been canceled`, status: 202 },
    });
    await waitFor(() => stalled().every((r) => r.aborted) || undefined, {
      timeoutMs: CANCEL_BOUND_MS,
      intervalMs: 5,
      what: "the stalled downloads closed",
    });
    console.log(`DELETE → stalled downloads closed after ${Date.now() - t0} ms`);
    await expectCanceled(c.id);

    proxy.clear();
    const next = await postCompose(svc.url, {
      source: { type: "repo", source: proxy.url, packages: ["wget"] },
      flags: ["no_deps", "no_reuse"],
      results: ["iso"],
    });
    await waitFor(async () => (await get(next.id)).state_name === "done" || undefined, {
      timeoutMs: 30_000,
      what: `compose ${next.id} done`,
    });
    expect((await get(c.id)).state_reason).toBe("Canceled by anonymous");
  });
});
