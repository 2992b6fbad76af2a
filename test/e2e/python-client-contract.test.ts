/**
 * The ODCS Python client's contract (reference §18), against the running
 * service: every method's request exactly as `odcs.client.odcs.ODCS` sends
 * it through python-requests (method, path with its trailing slash, query,
 * headers, body bytes as `json.dumps` writes them, the PATCH without a body,
 * `about` without the slash and following a redirect, POST/PATCH not
 * following one), and what the client reads back: 200/202 only, the JSON
 * fields it uses, the Range log reader of `wait_for_compose(watch_logs=True)`.
 * Requests go out through node:http so that no header is added or dropped.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ComposeJson,
  LIBDNF_REPO,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let svc: ServiceProcess;

/** Headers python-requests puts on every request of a `requests.Session`. */
const REQUESTS_HEADERS = {
  "User-Agent": "python-requests/2.32.3",
  "Accept-Encoding": "gzip, deflate",
  Accept: "*/*",
  Connection: "keep-alive",
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP exchange with exactly these headers and body bytes. */
function send(method: string, url: string, headers: Record<string, string>, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * The client's `_make_request`: URL = server ⊕ `api/1/<path>`; GET and
 * DELETE follow redirects; POST/PATCH send JSON and do not (a 301/302 would
 * be re-sent once to Location). Status ∉ {200, 202} is an error.
 */
async function client(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: string) {
  let url = new URL(`api/1/${path}`, `${svc.url}/`).toString();
  const headers: Record<string, string> = { ...REQUESTS_HEADERS };
  if (method === "POST" || method === "PATCH") headers["Content-Type"] = "application/json";
  // requests sends Content-Length: 0 for a bodiless request other than GET/HEAD.
  if (method !== "GET") headers["Content-Length"] = String(Buffer.byteLength(body ?? ""));
  for (let hops = 0; ; hops++) {
    const res = await send(method, url, headers, body);
    const location = res.headers.location;
    const follows =
      method === "GET" || method === "DELETE" ? [301, 302, 303, 307, 308] : [301, 302];
    if (follows.includes(res.status) && typeof location === "string" && hops < 5) {
      url = new URL(location, url).toString();
      continue;
    }
    return res;
  }
}

const json = (a: Answer) => JSON.parse(a.text) as ComposeJson & Record<string, unknown>;
const ok = (a: Answer) => {
  expect([200, 202], a.text).toContain(a.status);
  expect(a.headers["content-type"]).toMatch(/^application\/json/);
  return json(a);
};

let created: ComposeJson;

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  expect(await svc.stop()).toBe(0);
});

describe("ODCS Python client against ODCS-TS", () => {
  test("request_compose(ComposeSourceGeneric(repo, packages)): POST api/1/composes/ → 200, no redirect", async () => {
    const body = `{"source": {"source": "${LIBDNF_REPO}", "type": "repo", "packages": ["abcde"]}}`;
    const res = await client("POST", "composes/", body);
    expect(res.status).toBe(200);
    created = ok(res);
    expect(created).toMatchObject({
      state_name: "wait",
      source: LIBDNF_REPO,
      packages: "abcde",
      owner: "unknown",
      toplevel_url: `${svc.url}/composes/odcs-${created.id}`,
    });
  });

  test('new_compose(..., seconds_to_live=3600): the hyphenated "seconds-to-live" sets the lifetime', async () => {
    const body = `{"source": {"source": "${LIBDNF_REPO}", "type": "repo", "packages": ["wget"]}, "flags": ["no_reuse"], "seconds-to-live": 3600}`;
    const c = ok(await client("POST", "composes/", body));
    expect(c.flags).toEqual(["no_reuse"]);
    const life = Date.parse(String(c.time_to_expire)) - Date.parse(String(c.time_submitted));
    expect(life).toBe(3600_000);
  });

  test("wait_for_compose: GET api/1/composes/<id> until the state is final", async () => {
    const done = await waitFor(
      async () => {
        const c = ok(await client("GET", `composes/${created.id}`));
        return c.state_name !== "wait" && c.state_name !== "generating" ? c : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: "the compose to finish" },
    );
    expect(done).toMatchObject({ id: created.id, state_name: "done", state: 2 });
    expect(done).toHaveProperty("pungi_config_dump", null);
    created = done;
  });

  test("the log reader of watch_logs: Range from 0 (206), from the end (416), no log yet (404)", async () => {
    const url = `${created.toplevel_url}/pungi-stderr.log`;
    const plain = { "User-Agent": REQUESTS_HEADERS["User-Agent"], Accept: "*/*" };
    const all = await send("GET", url, { ...plain, Range: "bytes=0-" });
    expect(all.status).toBe(206);
    expect(all.text.length).toBeGreaterThan(0);
    const tail = await send("GET", url, { ...plain, Range: "bytes=10-" });
    expect(tail.status).toBe(206);
    expect(tail.text).toBe(all.text.slice(10));
    const end = Buffer.byteLength(all.text);
    expect((await send("GET", url, { ...plain, Range: `bytes=${end}-` })).status).toBe(416);
    const none = await send("GET", `${svc.url}/composes/odcs-999999/pungi-stderr.log`, {
      ...plain,
      Range: "bytes=0-",
    });
    expect(none.status).toBe(404);
  });

  test("find_composes(owner=..., per_page=1): the query as requests encodes it; items and meta", async () => {
    const res = await client("GET", "composes/?owner=unknown&per_page=1");
    const page = JSON.parse(res.text) as { items: ComposeJson[]; meta: Record<string, unknown> };
    expect(res.status).toBe(200);
    expect(page.items).toHaveLength(1);
    expect(page.meta).toMatchObject({
      page: 1,
      per_page: 1,
      total: 2,
      pages: 2,
      first: `${svc.url}/api/1/composes/?page=1&per_page=1&owner=unknown`,
    });
    const tags = JSON.parse((await client("GET", "composes/?source_type=tag")).text) as {
      meta: { total: number };
    };
    expect(tags.meta.total).toBe(0);
  });

  test("renew_compose(id): PATCH with no body at all → 200, the same compose extended", async () => {
    const before = Date.parse(String(created.time_to_expire));
    const res = await client("PATCH", `composes/${created.id}`);
    expect(res.status).toBe(200);
    const c = ok(res);
    expect(c).toMatchObject({ id: created.id, state_name: "done" });
    expect(Date.parse(String(c.time_to_expire))).toBeGreaterThanOrEqual(before);
    expect(c).not.toHaveProperty("pungi_config_dump");
  });

  test('renew_compose(id, seconds_to_live=7200): body {"seconds-to-live": 7200}', async () => {
    const res = await client("PATCH", `composes/${created.id}`, '{"seconds-to-live": 7200}');
    expect(ok(res)).toMatchObject({ id: created.id, state_name: "done" });
  });

  test("about(): GET api/1/about (no trailing slash), redirects followed → the five keys", async () => {
    const about = ok(await client("GET", "about"));
    expect(Object.keys(about).sort()).toEqual([
      "allowed_clients",
      "auth_backend",
      "raw_config_urls",
      "sigkeys",
      "version",
    ]);
    expect(about.auth_backend).toBe("noauth");
  });

  test("get_compose of an unknown id: 404 with the ODCS body the client prints before raising", async () => {
    const res = await client("GET", "composes/999999");
    expect(res.status).toBe(404);
    expect(json(res)).toEqual({
      error: "Not Found",
      message: "No such compose found.",
      status: 404,
    });
  });

  test("delete_compose(id): DELETE with no body → 202 and the message", async () => {
    const res = await client("DELETE", `composes/${created.id}`);
    expect(res.status).toBe(202);
    expect(json(res)).toEqual({
      message: `The delete request for compose (id=${created.id}) has been accepted and will be processed by backend later.`,
      status: 202,
    });
  });
});
