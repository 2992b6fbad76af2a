/**
 * A remote system holding its answer, with real Workers and the real
 * sources: the Koji hub and Koji files, the Pulp API and a content set's
 * repodata (protocol-level Pulp server), MBS's module-builds query
 * (protocol-level MBS), and the `git fetch` of module defaults over http (a
 * real bare repository). Each sits behind the fault proxy, which holds the
 * request and records when the worker closes it.
 *
 * - Cancel (DELETE) while held: within the bound the connection is closed
 *   (and no git process left), the compose `failed` "Canceled by anonymous",
 *   one attempt and no retry, only the log published.
 * - Nobody cancels: the system's own timeout setting ends each try, and the
 *   compose's `state_reason` names the setting.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Worker } from "../../src/worker/loop.ts";
import { tempDir } from "../helpers/db.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { type MbsServer, startMbs } from "../helpers/mbs-server.ts";
import { addModules } from "../helpers/module-builds.ts";
import { type PulpRepoSpec, type PulpServer, startPulpServer } from "../helpers/pulp-server.ts";
import { buildRpms } from "../helpers/rpmbuild.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const run = promisify(execFile);
/** Far above what a cancel takes here (ODCS_WORKER_CANCEL_CHECK_MS, 500 ms), for a loaded CI machine. */
const BOUND_MS = 5_000;

const pulpRepo = (id: string, cs: string, rel: string): PulpRepoSpec => ({
  id,
  notes: {
    content_set: cs,
    arch: "x86_64",
    relative_url: rel,
    signatures: "fd431d51",
    product_versions: "",
    include_in_download_service: "True",
  },
  dir: LIBDNF_REPO,
});

let pulp: PulpServer;
let mbs: MbsServer;
let hub: KojiHub;
let gitSrv: Awaited<ReturnType<typeof repoServer>>;
let pulpProxy: FaultProxy;
let mbsProxy: FaultProxy;
let gitProxy: FaultProxy;
let hubProxy: FaultProxy;
let topProxy: FaultProxy;
let h: Awaited<ReturnType<typeof composeHarness>>;
/** Every timeout at its minimum, one attempt per job, no Koji retries. */
let ht: Awaited<ReturnType<typeof composeHarness>>;
beforeAll(async () => {
  pulp = await startPulpServer({
    repos: [
      pulpRepo("cr-one", "cr-one", "content/cr/one/x86_64/os"),
      // Two repos of one content set and arch: merged, so their repodata is downloaded.
      pulpRepo("cr-m__1", "cr-merged", "content/cr/m1/x86_64/os"),
      pulpRepo("cr-m__2", "cr-merged", "content/cr/m2/x86_64/os"),
    ],
  });
  pulpProxy = await startFaultProxy(pulp.url.replace(/\/$/, ""));

  const model = new KojiModel({ topdir: tempDir("koji-top-") });
  mbs = await startMbs();
  await addModules(model, mbs, [
    {
      name: "cr-mod",
      stream: "1",
      version: "8090020240101000000",
      context: "c0ffee0c",
      rpms: [{ name: "cr-mod", version: "1.0", release: "1.module_el8", files: ["/usr/share/cr"] }],
    },
  ]);
  const built = await buildRpms([
    { name: "cr-app", version: "1.0", release: "1", files: ["/usr/share/cr-app"] },
  ]);
  model.createTag("cr-tag", { arches: ["x86_64"] });
  model.addPackage("cr-tag", "cr-app");
  model.importBuilds([{ rpms: built.map((b) => b.path) }]);
  model.tagBuild("cr-tag", "cr-app-1.0-1");
  hub = await startKojiHub(model);
  hubProxy = await startFaultProxy(new URL(hub.hubUrl).origin);
  topProxy = await startFaultProxy(hub.topurl.replace(/\/$/, ""));
  const mbsUrl = new URL(mbs.url);
  mbsProxy = await startFaultProxy(mbsUrl.origin);

  const work = tempDir("odcs-defaults-src-");
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: work });
  await git("init", "-q", "-b", "main");
  await writeFile(
    join(work, "cr-mod.yaml"),
    "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: cr-mod\n  stream: '1'\n...\n",
  );
  await git("add", ".");
  await git("commit", "-q", "-m", "defaults");
  const served = tempDir("odcs-defaults-http-");
  await run("git", ["clone", "-q", "--bare", work, join(served, "defaults.git")]);
  await run("git", ["update-server-info"], { cwd: join(served, "defaults.git") });
  gitSrv = await repoServer(served);
  gitProxy = await startFaultProxy(gitSrv.url);

  h = await composeHarness({
    ODCS_PULP_URL: `${pulpProxy.url}/`,
    ODCS_PULP_USERNAME: pulp.username,
    ODCS_PULP_PASSWORD: pulp.password,
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ODCS_KOJI_TOPURL: hub.topurl,
    ODCS_MBS_URL: `${mbsProxy.url}${mbsUrl.pathname}`,
    ODCS_ALLOWED_GIT_URLS: `${gitProxy.url}/`,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_WORKER_POLL_MS: 20,
    ODCS_JOB_MAX_ATTEMPTS: 3,
    // Every remote call could wait this long: only the cancel can end them in the bound.
    ODCS_PULP_TIMEOUT_MS: 600_000,
    ODCS_MBS_TIMEOUT_MS: 600_000,
    ODCS_GIT_TIMEOUT_MS: 600_000,
    ODCS_DOWNLOAD_TIMEOUT_MS: 600_000,
  });
  ht = await composeHarness({
    ODCS_PULP_URL: `${pulpProxy.url}/`,
    ODCS_PULP_USERNAME: pulp.username,
    ODCS_PULP_PASSWORD: pulp.password,
    ODCS_KOJI_HUB_URL: `${hubProxy.url}${new URL(hub.hubUrl).pathname}`,
    ODCS_KOJI_TOPURL: `${topProxy.url}/`,
    ODCS_MBS_URL: `${mbsProxy.url}${mbsUrl.pathname}`,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_JOB_MAX_ATTEMPTS: 1,
    ODCS_KOJI_RETRIES: 0,
    ODCS_PULP_TIMEOUT_MS: 1000,
    ODCS_MBS_TIMEOUT_MS: 1000,
    ODCS_KOJI_TIMEOUT_MS: 1000,
  });
}, 180_000);
afterAll(async () => {
  await h?.stopAll();
  await ht?.stopAll();
  for (const p of [pulpProxy, mbsProxy, gitProxy, hubProxy, topProxy]) await p?.close();
  await pulp?.close();
  await mbs?.close();
  await hub?.close();
  await gitSrv?.close();
});

let worker: Worker | undefined;
afterEach(async () => {
  for (const p of [pulpProxy, mbsProxy, gitProxy, hubProxy, topProxy]) p.clear();
  await worker?.stop(0);
  worker = undefined;
});

/** git processes whose command line names `url`. */
async function gitProcessesFor(url: string): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,args="]);
  return stdout.split("\n").filter((l) => l.includes("git") && l.includes(url));
}

/**
 * Create the compose with `proxy` holding requests matching `match`; once
 * one is held, DELETE it. Returns the compose id and how long after the
 * DELETE's answer every held connection was closed.
 */
async function cancelWhileHeld(
  proxy: FaultProxy,
  match: RegExp,
  fault: "stall" | "stall-headers",
  body: Record<string, unknown>,
): Promise<{ id: number; closedAfterMs: number }> {
  proxy.rule({ match, fault });
  const from = proxy.requests.length;
  const held = () => proxy.requests.slice(from).filter((r) => match.test(r.path));
  const c = await h.create(body);
  worker = h.newWorker(`w-${c.id}`);
  worker.start();
  await waitFor(() => held().length > 0 || undefined, {
    timeoutMs: 60_000,
    what: `a request matching ${match} held`,
  });
  expect((await h.row(c.id)).state).toBe(1);
  expect(held().some((r) => r.aborted)).toBe(false);
  const t0 = Date.now();
  const res = await h.request(`/api/1/composes/${c.id}`, { method: "DELETE" });
  expect({ status: res.status, body: await res.json() }).toEqual({
    status: 202,
    body: { message: `Compose (id=${c.id}) has been canceled`, status: 202 },
  });
  await waitFor(() => held().every((r) => r.aborted) || undefined, {
    timeoutMs: BOUND_MS,
    intervalMs: 5,
    what: "the held connections closed",
  });
  const closedAfterMs = Date.now() - t0;
  const w = worker;
  await waitFor(() => w.busy === 0 || undefined, {
    timeoutMs: BOUND_MS,
    what: "the worker to settle the job",
  });
  return { id: c.id, closedAfterMs };
}

/** Failed by the cancel, one attempt, nothing published but the log. */
async function expectCanceled(id: number) {
  expect(await h.row(id)).toMatchObject({ state: 4, stateReason: "Canceled by anonymous" });
  expect(await h.jobOf(id)).toMatchObject({ state: "failed", lastError: "canceled", attempts: 1 });
  expect(await readdir(h.dir(id))).toEqual(["pungi-stderr.log"]);
  expect(existsSync(join(h.target, ".staging", `odcs-${id}`))).toBe(false);
  expect(await h.rpms(id)).toEqual([]);
}

describe("cancel while held", () => {
  test("Pulp: the repository search held", async () => {
    const { id, closedAfterMs } = await cancelWhileHeld(
      pulpProxy,
      /^\/pulp\/api\//,
      "stall-headers",
      {
        source: { type: "pulp", source: "cr-one" },
      },
    );
    console.log(`cancel → held Pulp search closed after ${closedAfterMs} ms`);
    await expectCanceled(id);
  });

  test("Pulp: a merged content set's repodata download held mid-body", async () => {
    const { id, closedAfterMs } = await cancelWhileHeld(
      pulpProxy,
      /^\/content\/cr\/m[12]\/.*repodata\/repomd\.xml$/,
      "stall",
      { source: { type: "pulp", source: "cr-merged" } },
    );
    console.log(`cancel → held Pulp repodata download closed after ${closedAfterMs} ms`);
    await expectCanceled(id);
  });

  test("MBS: the module-builds query held", async () => {
    const { id, closedAfterMs } = await cancelWhileHeld(
      mbsProxy,
      /\/1\/module-builds\/$/,
      "stall-headers",
      { source: { type: "module", source: "cr-mod:1" } },
    );
    console.log(`cancel → held MBS query closed after ${closedAfterMs} ms`);
    await expectCanceled(id);
  });

  test("git: the module defaults fetch held; git and its http helper killed", async () => {
    const url = `${gitProxy.url}/defaults.git`;
    const { id, closedAfterMs } = await cancelWhileHeld(gitProxy, /info\/refs$/, "stall-headers", {
      source: {
        type: "module",
        source: "cr-mod:1",
        module_defaults_url: url,
        module_defaults_commit: "main",
      },
    });
    console.log(`cancel → held git fetch closed after ${closedAfterMs} ms`);
    expect(await gitProcessesFor(url)).toEqual([]);
    await expectCanceled(id);
  });
});

describe("nobody cancels: the timeout setting fires and the reason names it", () => {
  const P = "Error while generating compose: ";
  const port = (p: FaultProxy) => p.url.replace(/^http:\/\/127\.0\.0\.1:/, "");

  test("ODCS_KOJI_TIMEOUT_MS: the hub holds its answer", async () => {
    hubProxy.rule({ match: /./, fault: "stall-headers" });
    const row = await ht.run({
      source: { type: "tag", source: "cr-tag", packages: ["cr-app"] },
      flags: ["no_reuse"],
    });
    expect(row.state).toBe(4);
    expect(row.stateReason).toBe(
      `${P}cannot reach the Koji hub http://127.0.0.1:${port(hubProxy)}/kojihub for getLastEvent (1 attempts): no answer within 1000 ms (ODCS_KOJI_TIMEOUT_MS)`,
    );
  });

  test("ODCS_KOJI_TIMEOUT_MS: Koji's files send their headers, then nothing", async () => {
    topProxy.rule({ match: /\.rpm$/, fault: "stall" });
    const row = await ht.run({
      source: { type: "tag", source: "cr-tag", packages: ["cr-app"] },
      flags: ["no_reuse"],
    });
    expect(row.state).toBe(4);
    expect(row.stateReason).toMatch(
      /\/cr-app-1\.0-1\.noarch\.rpm failed: no complete answer within 1000 ms \(ODCS_KOJI_TIMEOUT_MS\)/,
    );
  });

  test("ODCS_MBS_TIMEOUT_MS: MBS holds its answer", async () => {
    mbsProxy.rule({ match: /./, fault: "stall-headers" });
    const row = await ht.run({ source: { type: "module", source: "cr-mod:1" } });
    expect(row.state).toBe(4);
    expect(row.stateReason).toMatch(
      /^Error while generating compose: cannot reach MBS for http:\/\/127\.0\.0\.1:\d+\/\S+: no answer within 1000 ms \(ODCS_MBS_TIMEOUT_MS\) \(4 attempts\)$/,
    );
  });

  test("ODCS_PULP_TIMEOUT_MS: Pulp holds its answer", async () => {
    pulpProxy.rule({ match: /./, fault: "stall-headers" });
    const row = await ht.run({ source: { type: "pulp", source: "cr-one" } });
    expect(row.state).toBe(4);
    expect(row.stateReason).toBe(
      `${P}Pulp connection has failed: POST http://127.0.0.1:${port(pulpProxy)}/pulp/api/v2/repositories/search/: no complete answer within 1000 ms (ODCS_PULP_TIMEOUT_MS)`,
    );
  });
});
