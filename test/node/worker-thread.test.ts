import Database from "libsql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { BACKGROUND_THREAD_NICE } from "../../src/node/nice.ts";
import { WorkerThread } from "../../src/node/worker-thread.ts";
import { tempDir } from "../helpers/db.ts";
import { type ServiceProcess, startService } from "../helpers/service.ts";
import { testApp, testConfig } from "../helpers/test-app.ts";
import { niceOfThread, niceOfThreads } from "../helpers/threads.ts";
import { waitFor } from "../helpers/wait.ts";

const threads: WorkerThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.stop(0)));
});

describe("the compose worker thread of a single-host process", () => {
  it("takes a compose when woken, on its own thread at a lower priority, and reports each change", async () => {
    const target = tempDir("odcs-wthread-target-");
    const t = await testApp({ config: { ODCS_TARGET_DIR: target } });
    // Polls once at start, then not for a minute: only `wake` can make it look.
    const config = testConfig({
      ODCS_DATABASE_URL: t.dbUrl,
      ODCS_TARGET_DIR: target,
      ODCS_WORKER_POLL_MS: 60_000,
    });
    const before = niceOfThreads();
    const thread = WorkerThread.spawn({ config, log: silentLogger, workerId: "wt-test" });
    threads.push(thread);
    const changed: number[] = [];
    thread.onChanged = (id) => changed.push(id);
    await thread.open();
    const after = niceOfThreads();
    // The thread, and the threads it starts (libsql's), which take its niceness.
    expect(after.filter((n) => n === BACKGROUND_THREAD_NICE).length).toBeGreaterThan(
      before.filter((n) => n === BACKGROUND_THREAD_NICE).length,
    );
    expect(niceOfThread(process.pid)).toBe(0);

    const res = await t.postJson("/api/1/composes/", {
      source: { type: "repo", source: "/srv/none" },
    });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    thread.wake();
    const failed = await waitFor(async () => {
      const r = (await (await t.request(`/api/1/composes/${id}`)).json()) as {
        state_name: string;
        state_reason: string;
      };
      return r.state_name === "failed" && r;
    });
    expect(failed.state_reason).toMatch(/\/srv\/none/);
    // wait → generating → failed, each told to the main thread.
    await waitFor(() => changed.filter((c) => c === id).length >= 2);
    // It ends by itself once told, long before the grace: nothing it started
    // (the file placement thread) holds it open, and it is not terminated
    // (libsql's objects in a terminated thread can abort the process).
    threads.splice(0);
    expect(await thread.stop(600_000)).toBe(true);
  }, 60_000);

  it("a database it cannot open fails its start with the reason", async () => {
    const thread = WorkerThread.spawn({
      config: testConfig({ ODCS_DATABASE_URL: "file:/nonexistent/dir/odcs.db" }),
      log: silentLogger,
    });
    threads.push(thread);
    await expect(thread.open()).rejects.toThrow(
      /worker thread could not start: .*(unable to open|SQLITE_CANTOPEN)/i,
    );
  }, 60_000);
});

describe("npm start: the worker's database waits are not the API's", () => {
  let svc: ServiceProcess;
  beforeAll(async () => {
    svc = await startService({ entry: "src/main.ts", timeoutMs: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await svc?.stop();
  });

  // Before, the worker ran on the API's thread: its claim (an UPDATE every
  // poll, 50 ms here) waited for the lock in SQLite's busy handler there, and
  // every request stood still until the other process let go (up to 15 s).
  it("while another process holds the write lock, reads are answered", async () => {
    const holder = new Database(svc.dbUrl.slice("file:".length));
    holder.exec("BEGIN IMMEDIATE");
    let gets = 0;
    try {
      // Twenty poll intervals at least, each a claim that waits for the lock.
      const start = performance.now();
      while (performance.now() - start < 1_000 || gets < 20) {
        const r = await fetch(`${svc.url}/api/1/composes/?per_page=5`, {
          signal: AbortSignal.timeout(5_000),
        });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        gets++;
      }
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect(gets).toBeGreaterThanOrEqual(20);
    // And the worker goes on once the lock is free.
    const res = await fetch(`${svc.url}/api/1/composes/`, {
      method: "POST",
      body: JSON.stringify({ source: { type: "repo", source: "/srv/none" } }),
    });
    const { id } = (await res.json()) as { id: number };
    await waitFor(
      async () =>
        ((await (await fetch(`${svc.url}/api/1/composes/${id}`)).json()) as { state_name: string })
          .state_name === "failed",
    );
  }, 60_000);
});
