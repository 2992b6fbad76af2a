/**
 * Reuse as a user of the whole service sees it (`src/main.ts` in its own
 * process, driven over HTTP): the same request twice gives a second compose
 * whose URLs name the first one's files, which are served and install with
 * dnf; `no_reuse` gives a compose of its own.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type ComposeJson,
  dnfInstallWithRepoFile,
  LIBDNF_REPO,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";

let svc: ServiceProcess;
const api = (path: string, init?: RequestInit) => fetch(`${svc.url}/api/1${path}`, init);

/** POST a compose and wait (bounded, server-side) until it is done. */
async function composeDone(body: Record<string, unknown>): Promise<ComposeJson> {
  const res = await api("/composes/", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  const waited = await api(`/composes/${created.id}/wait?state=done&timeout=30`);
  const done = (await waited.json()) as ComposeJson;
  expect(done, JSON.stringify(done)).toMatchObject({ state_name: "done" });
  return done;
}

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  expect(await svc.stop()).toBe(0);
});

test("the same request twice: the second is done pointing at the first's served files", async () => {
  const body = { source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } };
  const first = await composeDone(body);
  const second = await composeDone(body);
  expect(second.id).not.toBe(first.id);
  expect(second).toMatchObject({
    state_reason: "Compose is generated successfully",
    toplevel_url: first.toplevel_url,
    result_repofile: first.result_repofile,
    pungi_compose_id: first.pungi_compose_id,
  });
  const res = await fetch(second.result_repofile);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain(`[odcs-${first.id}]`);
  expect(await dnfInstallWithRepoFile(text, ["abcde"])).toEqual([
    "abcde-0:2.9.2-1.fc29.noarch",
    "flac-0:1.3.2-8.fc29.x86_64",
    "wget-0:1.19.5-5.fc29.x86_64",
  ]);

  const own = await composeDone({ ...body, flags: ["no_reuse"] });
  expect(own.toplevel_url).toBe(`${svc.url}/composes/odcs-${own.id}`);
  const ownRepo = await fetch(own.result_repofile);
  expect(ownRepo.status).toBe(200);
  expect(await ownRepo.text()).toContain(`[odcs-${own.id}]`);
});
