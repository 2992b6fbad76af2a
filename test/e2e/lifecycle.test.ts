/**
 * The life of a service process, on real processes: start-up warnings for
 * unknown ODCS_* variables, a graceful SIGTERM (no new connections; requests
 * in flight, waits and the running compose finish within the grace time;
 * exit 0), the grace bound, and a crash on an unhandled rejection.
 */
import { request } from "node:http";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, expect, test } from "vitest";
import { INTERRUPTED_EXIT_CODE, REPEATED_SIGNAL_MS } from "../../src/node/lifecycle.ts";
import {
  type ComposeJson,
  LIBDNF_REPO,
  ROOT,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A GET on a new connection (never a pooled one): its status, or the connection error's code. */
function freshGet(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** A POST whose body is sent in two parts: `finish()` sends the rest and resolves to the answer. */
function splitPost(url: string, body: string) {
  const cut = Math.floor(body.length / 2);
  let answer: Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  const req = request(url, {
    method: "POST",
    agent: false,
    headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
  });
  answer = new Promise((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on("error", reject);
  });
  req.write(body.slice(0, cut));
  return {
    finish: () => {
      req.end(body.slice(cut));
      return answer;
    },
  };
}

async function heldCompose(env: Record<string, string>) {
  const srv = await repoServer(LIBDNF_REPO);
  cleanup.push(() => srv.close());
  const svc = await startService({
    env: { ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_LOG_LEVEL: "debug", ...env },
  });
  cleanup.push(() => svc.kill());
  srv.hold(/repomd\.xml$/, 1);
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source: { type: "repo", source: srv.url, packages: ["wget"] } }),
  });
  const c = (await res.json()) as ComposeJson;
  expect(res.status).toBe(200);
  await waitFor(() => srv.held === 1 || undefined, { what: "the worker to fetch repomd" });
  return { srv, svc, id: c.id };
}

/**
 * Resolves once the service has logged that the `nth` request for `path`
 * started (the compose's own POST is the first POST of every test).
 */
const requestStarted = (svc: ServiceProcess, method: string, path: string, nth = 1) =>
  waitFor(
    () =>
      svc.output().split(`"msg":"request","method":"${method}","path":"${path}"`).length > nth ||
      undefined,
    { what: `${method} ${path} (#${nth}) to reach the service` },
  );

test("SIGTERM: new connections are refused; a request in flight, a wait and the running compose finish; exit 0", async () => {
  const { srv, svc, id } = await heldCompose({ ODCS_WORKER_GRACE_MS: "30000" });
  const waited = fetch(`${svc.url}/api/1/composes/${id}/wait?state=done&timeout=60`);
  await requestStarted(svc, "GET", `/api/1/composes/${id}/wait`);
  const post = splitPost(
    `${svc.url}/api/1/composes/`,
    JSON.stringify({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } }),
  );
  await requestStarted(svc, "POST", "/api/1/composes/", 2);

  svc.child.kill("SIGTERM");
  expect(
    await waitFor(
      async () => (await freshGet(`${svc.url}/api/1/about/`)) === "ECONNREFUSED" || undefined,
      {
        what: "the listening socket to close",
      },
    ),
  ).toBe(true);
  expect(svc.child.exitCode).toBeNull();

  // The request in flight is answered in full, and its connection closed after it.
  const answer = await post.finish();
  expect(answer.status, answer.body).toBe(200);
  expect(answer.headers.connection).toBe("close");
  expect(JSON.parse(answer.body)).toMatchObject({ state_name: "wait" });

  // The running compose finishes within the grace time, and the wait answers it done.
  expect(svc.child.exitCode).toBeNull();
  srv.release();
  const res = await waited;
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ id, state_name: "done" });
  expect(await svc.exited).toBe(0);
  expect(svc.output()).toContain('"msg":"stopped"');
});

test("the grace time bounds the stop: a wait still open is answered as it is, the compose goes back to the queue; exit 0", async () => {
  const { svc, id } = await heldCompose({ ODCS_WORKER_GRACE_MS: "1500" });
  const waited = fetch(`${svc.url}/api/1/composes/${id}/wait?state=done&timeout=60`);
  await requestStarted(svc, "GET", `/api/1/composes/${id}/wait`);
  const t0 = Date.now();
  svc.child.kill("SIGTERM");
  const res = await waited;
  const answeredAfter = Date.now() - t0;
  expect(res.status).toBe(200);
  const body = (await res.json()) as ComposeJson;
  expect(body.id).toBe(id);
  expect(["wait", "generating"]).toContain(body.state_name);
  expect(answeredAfter).toBeGreaterThanOrEqual(1400);
  expect(await svc.exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(1500 + 5000);
  const db = createClient({ url: svc.dbUrl });
  try {
    const { rows } = await db.execute({
      sql: "SELECT state, locked_by FROM jobs WHERE compose_id = ?",
      args: [id],
    });
    expect(rows.map((r) => ({ ...r }))).toEqual([{ state: "queued", locked_by: null }]);
  } finally {
    db.close();
  }
});

// `npm run server` on a loaded machine: the group's SIGTERM, then npm's
// forward and tsx's relay of it a few ms later. Before, the repeat cut the
// graceful stop short (entry-points test, `"second signal"` 35 ms after the first).
test("a SIGTERM repeated at once is the same request: the stop stays graceful; a later one exits at once", async () => {
  const { svc } = await heldCompose({ ODCS_WORKER_GRACE_MS: "1500" });
  svc.child.kill("SIGTERM");
  await waitFor(() => svc.output().includes('"msg":"stopping"') || undefined, {
    what: "the first signal taken",
  });
  svc.child.kill("SIGTERM");
  expect(await svc.exited).toBe(0);
  expect(svc.output()).toContain('"msg":"stopped"');
  expect(svc.output()).not.toContain("second signal");

  const again = await heldCompose({ ODCS_WORKER_GRACE_MS: "60000" });
  again.svc.child.kill("SIGTERM");
  await waitFor(() => again.svc.output().includes('"msg":"stopping"') || undefined, {
    what: "the first signal taken",
  });
  await new Promise((resolve) => setTimeout(resolve, REPEATED_SIGNAL_MS + 200));
  again.svc.child.kill("SIGTERM");
  expect(await again.svc.exited).toBe(INTERRUPTED_EXIT_CODE);
  expect(again.svc.output()).toContain("second signal: exiting without waiting");
});

test("an unknown ODCS_* variable is a start-up warning naming the closest setting; the CLI's ODCS_SERVER and ODCS_TOKEN are known", async () => {
  const svc = await startService({
    entry: "src/server.ts",
    env: {
      ODCS_WORKER_CONCURENCY: "4",
      ODCS_TRUST_PROXIES: "true",
      ODCS_SERVER: "http://odcs.example.com",
      ODCS_TOKEN: "secret",
    },
  });
  cleanup.push(() => svc.kill());
  const warnings = svc
    .output()
    .split("\n")
    .filter((l) => l.includes('"level":"warn"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(warnings.map(({ msg, setting, closest }) => ({ msg, setting, closest }))).toEqual([
    {
      msg: "unknown setting ODCS_TRUST_PROXIES is ignored; the closest known setting is ODCS_TRUST_PROXY",
      setting: "ODCS_TRUST_PROXIES",
      closest: "ODCS_TRUST_PROXY",
    },
    {
      msg: "unknown setting ODCS_WORKER_CONCURENCY is ignored; the closest known setting is ODCS_WORKER_CONCURRENCY",
      setting: "ODCS_WORKER_CONCURENCY",
      closest: "ODCS_WORKER_CONCURRENCY",
    },
  ]);
  expect(await svc.stop()).toBe(0);
});

test("the worker process warns too", async () => {
  const svc = await startService({
    entry: "src/worker.ts",
    readyText: "worker started",
    env: { ODCS_WORKER_GRACE: "1000" },
  });
  cleanup.push(() => svc.kill());
  expect(svc.output()).toContain(
    '"msg":"unknown setting ODCS_WORKER_GRACE is ignored; the closest known setting is ODCS_WORKER_GRACE_MS"',
  );
  expect(await svc.stop()).toBe(0);
});

test.each(["src/main.ts", "src/worker.ts"])(
  "%s: an unhandled rejection is logged as an error and the process exits non-zero",
  async (entry) => {
    const svc = await startService({
      entry,
      nodeArgs: ["--import", join(ROOT, "test/helpers/reject-on-signal.ts")],
      ...(entry.includes("worker") ? { readyText: "worker started" } : {}),
    });
    cleanup.push(() => svc.kill());
    svc.child.kill("SIGUSR2");
    const code = await svc.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const line = svc
      .output()
      .split("\n")
      .find((l) => l.includes("unhandled promise rejection"));
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      level: "error",
      msg: "unhandled promise rejection; exiting",
      error: "injected: a rejection nobody handles",
    });
  },
);
