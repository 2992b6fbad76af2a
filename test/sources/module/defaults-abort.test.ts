/**
 * Fetching module defaults over http from a server that holds its answer:
 * aborting the job (a cancel, a shutdown) and ODCS_GIT_TIMEOUT_MS both end
 * the fetch within a bound — the connection closed, every git process gone
 * (git hands http transfers to a `git remote-http` child, which a signal to
 * git alone left running on its connection), the call settled. The
 * repository is a real bare one (`git update-server-info`) behind the
 * fault proxy, which holds git's first request, `info/refs`.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { fetchModuleDefaults } from "../../../src/sources/module/defaults.ts";
import { tempDir } from "../../helpers/db.ts";
import { type FaultProxy, startFaultProxy } from "../../helpers/fault-proxy.ts";
import { repoServer } from "../../helpers/service.ts";
import { testConfig } from "../../helpers/test-app.ts";
import { waitFor } from "../../helpers/wait.ts";

const run = promisify(execFile);
/** Far above what a cancel takes here (tens of ms), for a loaded CI machine. */
const BOUND_MS = 5_000;
const REFS = /info\/refs$/;

let srv: Awaited<ReturnType<typeof repoServer>>;
let proxy: FaultProxy;
let url: string;
beforeAll(async () => {
  const work = tempDir("odcs-defaults-src-");
  const git = (cwd: string, ...args: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd });
  await git(work, "init", "-q", "-b", "main");
  await writeFile(
    join(work, "hd.yaml"),
    "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: hd\n  stream: '1'\n...\n",
  );
  await git(work, "add", ".");
  await git(work, "commit", "-q", "-m", "defaults");
  const served = tempDir("odcs-defaults-http-");
  await run("git", ["clone", "-q", "--bare", work, join(served, "defaults.git")]);
  await run("git", ["update-server-info"], { cwd: join(served, "defaults.git") });
  srv = await repoServer(served);
  proxy = await startFaultProxy(srv.url);
  url = `${proxy.url}/defaults.git`;
});
afterAll(async () => {
  await proxy.close();
  await srv.close();
});
afterEach(() => proxy.clear());

const settings = (extra: Record<string, unknown> = {}) =>
  testConfig({
    ODCS_ALLOWED_GIT_URLS: `${proxy.url}/`,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ...extra,
  });

/** git processes whose command line names `url` (the fetch and its remote-http helper). */
async function gitProcessesFor(u: string): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,args="]);
  return stdout.split("\n").filter((l) => l.includes("git") && l.includes(u));
}

/** Hold every `info/refs` from now on; the requests held so far, and a wait for the first. */
function holdRefs() {
  proxy.rule({ match: REFS, fault: "stall-headers" });
  const from = proxy.requests.length;
  const before = proxy.requests.filter((r) => REFS.test(r.path)).length;
  return {
    held: () => proxy.requests.slice(from).filter((r) => REFS.test(r.path)),
    reached: () => proxy.seen(REFS, before + 1),
  };
}

test("aborted while the server holds info/refs: connection closed, git gone, settled within the bound", async () => {
  const { held, reached } = holdRefs();
  const ac = new AbortController();
  const settled = fetchModuleDefaults(
    { url, ref: "main" },
    { config: settings({ ODCS_GIT_TIMEOUT_MS: 600_000 }), signal: ac.signal },
  ).then(
    () => "resolved",
    (err: Error) => err.name,
  );
  let outcome: string | undefined;
  void settled.then((o) => {
    outcome = o;
  });
  await reached();
  expect(await gitProcessesFor(url)).not.toEqual([]);
  const t0 = Date.now();
  ac.abort(new Error("canceled"));
  expect(await waitFor(() => outcome, { timeoutMs: BOUND_MS, what: "the fetch to settle" })).toBe(
    "AbortError",
  );
  await waitFor(() => held().every((r) => r.aborted) || undefined, {
    timeoutMs: BOUND_MS,
    intervalMs: 5,
    what: "the held connection closed",
  });
  expect(await gitProcessesFor(url)).toEqual([]);
  console.log(`abort → git fetch settled and its connection closed after ${Date.now() - t0} ms`);
});

test("ODCS_GIT_TIMEOUT_MS fires on a held fetch: the reason names it, the connection is closed", async () => {
  const { held } = holdRefs();
  let err: unknown;
  void fetchModuleDefaults(
    { url, ref: "main" },
    {
      config: settings({ ODCS_GIT_TIMEOUT_MS: 1000 }),
      signal: new AbortController().signal,
    },
  ).catch((e: unknown) => {
    err = e;
  });
  await waitFor(() => err, { timeoutMs: 1000 + BOUND_MS, what: "the fetch to fail" });
  expect(err).toMatchObject({
    name: "ComposeError",
    retryable: true,
    message: `module defaults ${url} (main): fetching took longer than ODCS_GIT_TIMEOUT_MS (1000 ms)`,
  });
  expect(held().length).toBe(1);
  await waitFor(() => held().every((r) => r.aborted) || undefined, {
    timeoutMs: BOUND_MS,
    what: "the held connection closed",
  });
  expect(await gitProcessesFor(url)).toEqual([]);
});
