import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "libsql";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { Config } from "../../src/config.ts";
import { BACKGROUND_THREAD_NICE } from "../../src/node/nice.ts";
import { openDatabase } from "../../src/node/runtime.ts";
import { THREAD_RESTART_MS } from "../../src/node/thread-host.ts";
import { WriteThread } from "../../src/node/write-thread.ts";
import type { Hook } from "../../src/node/write-thread-protocol.ts";
import { serverForSuite } from "../helpers/service.ts";
import { testConfig } from "../helpers/test-app.ts";
import { niceOfThread, niceOfThreads } from "../helpers/threads.ts";
import { waitFor } from "../helpers/wait.ts";

const CREATE = JSON.stringify({ source: { type: "repo", source: "/srv/none" } });
const dirs: string[] = [];
const threads: WriteThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A migrated database file and its config. */
async function database(): Promise<{ config: Config; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), "odcs-wthread-"));
  dirs.push(dir);
  const file = join(dir, "odcs.db");
  const config = testConfig({
    ODCS_DATABASE_URL: `file:${file}`,
    ODCS_TARGET_DIR: join(dir, "composes"),
  });
  const { close } = await openDatabase(config, silentLogger);
  await close();
  return { config, file };
}

async function thread(config: Config, hooks: Hook[] = []): Promise<WriteThread> {
  const t = await WriteThread.start({
    data: { config, version: "9.9.9", crashAt: undefined },
    log: silentLogger,
    onHook: (h) => hooks.push(h),
  });
  threads.push(t);
  return t;
}

const post = (t: WriteThread, body: string) =>
  t.fetch(
    new Request("http://localhost/api/1/composes/", { method: "POST", body }),
    new TextEncoder().encode(body),
  );

const rowsIn = (file: string, table: string) => {
  const db = new Database(file);
  try {
    return Number((db.prepare(`SELECT count(*) FROM ${table}`).raw(true).get() as unknown[])[0]);
  } finally {
    db.close();
  }
};

describe("WriteThread", () => {
  it("answers a create from its own app and database client, and sends the main thread its hooks", async () => {
    const { config, file } = await database();
    const hooks: Hook[] = [];
    const t = await thread(config, hooks);
    const res = await post(t, CREATE);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const compose = (await res.json()) as { id: number; state_name: string };
    expect(compose).toMatchObject({ id: 1, state_name: "wait" });
    expect(rowsIn(file, "composes")).toBe(1);
    expect(rowsIn(file, "jobs")).toBe(1);
    await waitFor(() => hooks.some((h) => h.hook === "request"), { what: "the request hook" });
    expect(hooks).toContainEqual({ hook: "queued" });
    expect(hooks).toContainEqual(
      expect.objectContaining({ hook: "request", method: "POST", status: 200 }),
    );
    expect(t.inFlight).toBe(0);
  });

  it("answers bad input in the ODCS shape and writes nothing", async () => {
    const { config, file } = await database();
    const t = await thread(config);
    const res = await post(t, '{"source": {"type": "repo", "source": 5}}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, error: "Bad Request" });
    expect(rowsIn(file, "composes")).toBe(0);
  });

  it("runs at a lower priority than the main thread (Linux: per thread)", async () => {
    const { config } = await database();
    const before = niceOfThreads();
    await thread(config);
    const after = niceOfThreads();
    expect(after.filter((n) => n === BACKGROUND_THREAD_NICE).length).toBe(
      before.filter((n) => n === BACKGROUND_THREAD_NICE).length + 1,
    );
    expect(niceOfThread(process.pid)).toBe(0);
  });

  it("a thread that dies fails its requests with a 503, and is started again", async () => {
    const { config, file } = await database();
    const t = await thread(config);
    // Another connection holds the write lock: the create cannot finish.
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    const held = post(t, CREATE);
    await waitFor(() => t.inFlight === 1, { what: "the create handed over" });
    // The thread waits in SQLite's busy handler: it ends once that returns.
    const killed = t.kill();
    holder.exec("ROLLBACK");
    holder.close();
    await killed;
    const failed = await held;
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe(String(THREAD_RESTART_MS / 1000));
    expect(await failed.json()).toMatchObject({
      status: 503,
      message: expect.stringMatching(
        /write thread stopped before answering.*look before you retry/,
      ),
    });
    // Until it runs again: 503 at once.
    const meanwhile = await post(t, CREATE);
    expect(meanwhile.status).toBe(503);
    expect(((await meanwhile.json()) as { message: string }).message).toMatch(/restarting/);
    await waitFor(async () => (await post(t, CREATE)).status === 200, {
      timeoutMs: 30_000,
      what: "a create answered by the restarted thread",
    });
    expect(rowsIn(file, "composes")).toBe(1);
  });

  it("after stop, writes get a 503 and the thread has ended", async () => {
    const { config } = await database();
    const t = await thread(config);
    // Ended by itself, not terminated.
    expect(await t.stop()).toBe(true);
    const res = await post(t, CREATE);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/stopping/);
  });

  it("a database it cannot open fails its start with the reason", async () => {
    const { config } = await database();
    await expect(
      thread({ ...config, ODCS_DATABASE_URL: "file:/nonexistent/dir/odcs.db" }),
    ).rejects.toThrow(/write thread could not start: .*(unable to open|SQLITE_CANTOPEN)/i);
  });
});

describe("the real server's writes run on the write thread", () => {
  const server = serverForSuite();

  // Before, the create's BEGIN waited for the lock in SQLite's busy handler
  // on the one JS thread: every request, reads too, stood still until the
  // other process let go (up to the 15 s busy timeout).
  it("while another process holds the write lock, a create waits and reads are answered", async () => {
    const holder = new Database(server().dbUrl.slice("file:".length));
    holder.exec("BEGIN IMMEDIATE");
    let created: Response | undefined;
    const create = fetch(`${server().url}/api/1/composes/`, { method: "POST", body: CREATE }).then(
      (r) => {
        created = r;
        return r;
      },
    );
    try {
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${server().url}/api/1/composes/?per_page=5`, {
          signal: AbortSignal.timeout(5_000),
        });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      expect(created).toBeUndefined();
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const res = await create;
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    const got = await fetch(`${server().url}/api/1/composes/${id}`);
    expect(got.status).toBe(200);
  }, 60_000);

  it("POSTs counted in the main thread's metrics", async () => {
    const res = await fetch(`${server().url}/api/1/composes/`, { method: "POST", body: CREATE });
    expect(res.status).toBe(200);
    const text = await (await fetch(`${server().url}/api/1/metrics/`)).text();
    const line = text
      .split("\n")
      .find((l) =>
        l.startsWith(
          'odcs_http_request_duration_seconds_count{method="POST",route="/api/1/composes",status="200"}',
        ),
      );
    expect(Number(line?.split(" ").at(-1))).toBeGreaterThanOrEqual(1);
  });
});
