/**
 * The whole service as a user sees it: `src/main.ts` (API + worker + sweep
 * + compose file server) in its own process on a loopback port with a temp
 * data dir, driven over HTTP only, with the real dnf installing from the
 * .repo URL it hands out.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ComposeJson,
  dnfInstallWithRepoFile,
  LIBDNF_REPO,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let svc: ServiceProcess;
let srv: Awaited<ReturnType<typeof repoServer>>;
let compose: ComposeJson;

const api = (path: string, init?: RequestInit) => fetch(`${svc.url}/api/1${path}`, init);
const post = (body: string) =>
  api("/composes/", { method: "POST", body, headers: { "Content-Type": "application/json" } });
const total = async () =>
  ((await (await api("/composes/")).json()) as { meta: { total: number } }).meta.total;

beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
  svc = await startService({ env: { ODCS_ALLOWED_REPO_URLS: srv.url } });
  const res = await post(
    JSON.stringify({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } }),
  );
  compose = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(compose)).toBe(200);
});
afterAll(async () => {
  expect(await svc.stop()).toBe(0);
  await srv.close();
});

describe("a compose over HTTP", () => {
  test("POST answers the new compose in wait", () => {
    expect(compose).toMatchObject({
      state_name: "wait",
      state: 0,
      source: LIBDNF_REPO,
      packages: "abcde",
      result_repofile: `${svc.url}/composes/odcs-${compose.id}/compose/Temporary/odcs-${compose.id}.repo`,
    });
  });

  test("GET shows it done within a bounded wait", async () => {
    const done = await waitFor(
      async () => {
        const c = (await (await api(`/composes/${compose.id}`)).json()) as ComposeJson;
        return c.state_name === "done" ? c : c.state_name === "failed" ? c : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 20, what: "the compose to finish" },
    );
    expect(done).toMatchObject({
      state_name: "done",
      state_reason: "Compose is generated successfully",
    });
  });

  test("GET …/wait answers a new compose once it is done, woken by the worker of the process", async () => {
    const res = await post(
      JSON.stringify({
        source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
        flags: ["no_reuse"],
      }),
    );
    const created = (await res.json()) as ComposeJson;
    expect(created.state_name).toBe("wait");
    const waited = await api(`/composes/${created.id}/wait?state=done&timeout=30`);
    expect(waited.status).toBe(200);
    const body = (await waited.json()) as ComposeJson;
    expect(body).toMatchObject({
      id: created.id,
      state_name: "done",
      state_reason: "Compose is generated successfully",
    });
    expect(body).toEqual(await (await api(`/composes/${created.id}`)).json());
  });

  test("the .repo downloads over HTTP and dnf installs the package with its dependencies", async () => {
    const res = await fetch(compose.result_repofile);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.split("\n")).toHaveLength(10);
    expect(text).toContain(
      `baseurl=${svc.url}/composes/odcs-${compose.id}/compose/Temporary/$basearch/os\n`,
    );
    expect(await dnfInstallWithRepoFile(text, ["abcde"])).toEqual([
      "abcde-0:2.9.2-1.fc29.noarch",
      "flac-0:1.3.2-8.fc29.x86_64",
      "wget-0:1.19.5-5.fc29.x86_64",
    ]);
  });

  test("the log URL answers Range requests: 206, and 416 past the end", async () => {
    const logUrl = `${compose.toplevel_url}/pungi-stderr.log`;
    const whole = await fetch(logUrl);
    expect(whole.status).toBe(200);
    const body = await whole.text();
    expect(body).toMatch(/attempt 1 on worker /);
    const size = Buffer.byteLength(body);

    const part = await fetch(logUrl, { headers: { Range: "bytes=0-9" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${size}`);
    expect(await part.text()).toBe(body.slice(0, 10));

    const tail = await fetch(logUrl, { headers: { Range: `bytes=${size - 5}-` } });
    expect(tail.status).toBe(206);
    expect(await tail.text()).toBe(body.slice(-5));

    const eof = await fetch(logUrl, { headers: { Range: `bytes=${size}-` } });
    expect(eof.status).toBe(416);
    await eof.body?.cancel();
  });
});

test("while generating, the log is served at its final URL and nothing else is published", async () => {
  srv.hold(/repomd\.xml$/, 1);
  const res = await post(
    JSON.stringify({ source: { type: "repo", source: srv.url, packages: ["wget"] } }),
  );
  const c = (await res.json()) as ComposeJson;
  expect(res.status).toBe(200);
  await waitFor(() => srv.held === 1 || undefined, { what: "the worker to fetch repomd" });
  const log = await fetch(`${c.toplevel_url}/pungi-stderr.log`);
  expect(log.status).toBe(200);
  // The worker's first request of a compose is the pin of its sources' repomd.xml (reuse, §12).
  expect(await log.text()).toMatch(/pinning source http/);
  const repofile = await fetch(c.result_repofile);
  expect(repofile.status).toBe(404);
  await repofile.body?.cancel();
  srv.release();
  await waitFor(
    async () =>
      ((await (await api(`/composes/${c.id}`)).json()) as ComposeJson).state_name === "done" ||
      undefined,
    { timeoutMs: 15_000, intervalMs: 20, what: "the URL compose to finish" },
  );
  expect((await fetch(c.result_repofile)).status).toBe(200);
});

describe("what is never served or written", () => {
  test.each([
    "/composes/.staging/",
    "/composes/.staging/odcs-1/attempt-1/pungi-stderr.log",
    "/composes/%2estaging/odcs-1/attempt-1/pungi-stderr.log",
    "/composes/odcs-1/../.staging/",
    "/composes/odcs-999/pungi-stderr.log",
  ])("GET %s is 404", async (path) => {
    const res = await fetch(`${svc.url}${path}`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });

  test.each([
    ["not JSON", "{"],
    ["no source", "{}"],
    ["unknown source type", JSON.stringify({ source: { type: "nope", source: "x" } })],
    ["relative repo path", JSON.stringify({ source: { type: "repo", source: "relative/path" } })],
  ])("a malformed POST (%s) is a 400 with the ODCS body and writes no row", async (_, body) => {
    const before = await total();
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, error: "Bad Request" });
    expect(await total()).toBe(before);
  });
});
