import { beforeAll, describe, expect, it } from "vitest";
import { composes } from "../../src/db/schema.ts";
import {
  COMPOSE_DEFAULTS,
  composeJson,
  DAY_MS,
  givenCompose,
  odcsError,
  T0,
} from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

type App = Awaited<ReturnType<typeof testApp>>;
const ORDER_MESSAGE =
  "An invalid order_by key was suplied, allowed keys are: ['id', 'owner', 'source_type', 'koji_event', 'state', 'time_to_expire', 'time_submitted', 'time_done', 'time_removed']";

const get = async (t: App, query: string, headers: Record<string, string> = {}) => {
  const res = await t.request(`/api/1/composes/${query}`, { headers });
  return { res, status: res.status, body: await res.json() };
};
const ids = (body: { items: { id: number }[] }) => body.items.map((i) => i.id);

describe("GET /api/1/composes/ filters", () => {
  let t: App;
  beforeAll(async () => {
    t = await testApp();
    // 1: alice, wait, tag. 2: bob, done, repo. 3: alice, failed, repo. 4: carol, removed, module.
    await givenCompose(t.db, {
      owner: "alice",
      sourceType: 1,
      source: "f40",
      label: "l1",
      composeType: "test",
    });
    await givenCompose(t.db, {
      owner: "bob",
      state: 2,
      source: "/srv/repos/a /srv/repos/b",
      kojiTaskId: 5,
      pungiComposeId: "odcs-2-1-20261121.t.0",
      composeType: "nightly",
      timeDone: T0 + 1000,
    });
    await givenCompose(t.db, { owner: "alice", state: 4, label: "l2", stateReason: "boom" });
    await givenCompose(t.db, {
      owner: "carol",
      state: 3,
      sourceType: 2,
      source: "m:s",
      composeType: "production",
    });
  });

  it.each([
    ["no filter", "", [4, 3, 2, 1]],
    ["owner", "?owner=alice", [3, 1]],
    ["owner with no match", "?owner=nobody", []],
    ["source_type as a code", "?source_type=3", [3, 2]],
    ["source_type as a name", "?source_type=repo", [3, 2]],
    ["source_type tag (the client's own test)", "?source_type=tag", [1]],
    ["unknown source_type name", "?source_type=bogus", []],
    ["prototype name as source_type", "?source_type=constructor", []],
    ["source, the whole string", "?source=%2Fsrv%2Frepos%2Fa+%2Fsrv%2Frepos%2Fb", [2]],
    ["source, one item only matches nothing", "?source=/srv/repos/a", [3]],
    ["state as a code", "?state=4", [3]],
    ["state as a name", "?state=done", [2]],
    ["state removed", "?state=removed", [4]],
    ["unknown state name", "?state=finished", []],
    ["prototype name as state", "?state=toString", []],
    ["koji_task_id", "?koji_task_id=5", [2]],
    ["non-numeric koji_task_id", "?koji_task_id=abc", []],
    ["pungi_compose_id", "?pungi_compose_id=odcs-2-1-20261121.t.0", [2]],
    ["compose_type", "?compose_type=nightly", [2]],
    ["label", "?label=l2", [3]],
    ["filters are AND-ed", "?owner=alice&state=wait", [1]],
    ["an empty value does not filter", "?owner=&state=&label=", [4, 3, 2, 1]],
    ["a repeated parameter uses its first value", "?owner=bob&owner=alice", [2]],
    ["unknown parameters are ignored", "?color=blue", [4, 3, 2, 1]],
  ])("%s", async (_name, query, expected) => {
    const { status, body } = await get(t, query);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(expected);
    expect(body.meta.total).toBe(expected.length);
  });

  it("items are whole compose JSON without pungi_config_dump", async () => {
    const { body } = await get(t, "?state=failed");
    expect(body.items).toEqual([
      composeJson(3, {
        owner: "alice",
        label: "l2",
        state: 4,
        state_name: "failed",
        state_reason: "boom",
      }),
    ]);
  });
});

describe("GET /api/1/composes/ order_by", () => {
  let t: App;
  beforeAll(async () => {
    t = await testApp();
    await givenCompose(t.db, {
      owner: "b",
      sourceType: 3,
      kojiEvent: 20,
      state: 2,
      timeToExpire: T0 + 3 * DAY_MS,
      timeDone: T0 + 5,
    });
    await givenCompose(t.db, {
      owner: "a",
      sourceType: 1,
      kojiEvent: null,
      state: 0,
      timeToExpire: T0 + DAY_MS,
      timeSubmitted: T0 + 10,
    });
    await givenCompose(t.db, {
      owner: "c",
      sourceType: 2,
      kojiEvent: 10,
      state: 3,
      timeToExpire: T0 + 2 * DAY_MS,
      timeSubmitted: T0 - 10,
      timeRemoved: T0 + 9,
    });
    await givenCompose(t.db, {
      owner: "a",
      sourceType: 3,
      kojiEvent: 10,
      state: 4,
      timeToExpire: T0 + DAY_MS,
      timeDone: T0 + 1,
    });
  });

  it.each([
    ["default is -id", "", [4, 3, 2, 1]],
    ["id", "id", [1, 2, 3, 4]],
    ["-id", "-id", [4, 3, 2, 1]],
    ["owner, ties by id", "owner", [2, 4, 1, 3]],
    ["-owner, ties by id descending", "-owner", [3, 1, 4, 2]],
    ["source_type (our addition)", "source_type", [2, 3, 1, 4]],
    ["source_Type (upstream's spelling)", "source_Type", [2, 3, 1, 4]],
    ["-source_type", "-source_type", [4, 1, 3, 2]],
    ["koji_event, NULLs first", "koji_event", [2, 3, 4, 1]],
    ["-koji_event, NULLs last", "-koji_event", [1, 4, 3, 2]],
    ["state", "state", [2, 1, 3, 4]],
    ["-state", "-state", [4, 3, 1, 2]],
    ["time_to_expire", "time_to_expire", [2, 4, 3, 1]],
    ["-time_to_expire", "-time_to_expire", [1, 3, 4, 2]],
    ["time_submitted", "time_submitted", [3, 1, 4, 2]],
    ["-time_submitted", "-time_submitted", [2, 4, 1, 3]],
    ["time_done", "time_done", [2, 3, 4, 1]],
    ["-time_done", "-time_done", [1, 4, 3, 2]],
    ["time_removed", "time_removed", [1, 2, 4, 3]],
    ["-time_removed", "-time_removed", [3, 4, 2, 1]],
  ])("%s", async (_name, key, expected) => {
    const { status, body } = await get(t, key === "" ? "" : `?order_by=${key}`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(expected);
  });

  it.each([["bogus"], ["-bogus"], [""], ["-"], ["--id"], ["label"]])(
    "order_by=%s → 400",
    async (key) => {
      const { res, status, body } = await get(t, `?order_by=${key}`);
      expect({ status, body }).toEqual({ status: 400, body: odcsError(400, ORDER_MESSAGE) });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );
});

describe("GET /api/1/composes/ pagination (§5)", () => {
  let t: App;
  beforeAll(async () => {
    t = await testApp();
    const rows = Array.from({ length: 38 }, () => ({ ...COMPOSE_DEFAULTS }));
    await t.db.insert(composes).values(rows);
  });
  const L = "http://localhost/api/1/composes/";

  it.each([
    ["defaults", "", 1, 10, 10],
    ["non-integer page", "?page=abc", 1, 10, 10],
    ["fractional page", "?page=1.5", 1, 10, 10],
    ["page 0 → 1", "?page=0", 1, 10, 10],
    ["negative page → 1", "?page=-3", 1, 10, 10],
    ["non-integer per_page", "?per_page=abc", 1, 10, 10],
    ["fractional per_page", "?per_page=2.5", 1, 10, 10],
    ["per_page 0 → 20", "?per_page=0", 1, 20, 20],
    ["negative per_page → 20", "?per_page=-1", 1, 20, 20],
    ["per_page 1000", "?per_page=1000", 1, 1000, 38],
    ["padded integers", "?page=%202%20&per_page=+5", 2, 5, 5],
    ["the last, partial page", "?page=4", 4, 10, 8],
    ["past the end", "?page=5", 5, 10, 0],
  ])("%s", async (_name, query, page, perPage, count) => {
    const { status, body } = await get(t, query);
    expect(status).toBe(200);
    expect(body.items).toHaveLength(count);
    expect(body.meta).toMatchObject({
      page,
      per_page: perPage,
      total: 38,
      pages: Math.ceil(38 / perPage),
    });
  });

  it("pages newest first", async () => {
    expect(ids((await get(t, "?per_page=3&page=2")).body)).toEqual([35, 34, 33]);
  });

  it("meta of a middle page", async () => {
    const { body } = await get(t, "?per_page=3&page=2");
    expect(body.meta).toEqual({
      first: `${L}?page=1&per_page=3`,
      last: `${L}?page=13&per_page=3`,
      next: `${L}?page=3&per_page=3`,
      page: 2,
      pages: 13,
      per_page: 3,
      prev: `${L}?page=1&per_page=3`,
      total: 38,
    });
  });

  it("meta past the end, as observed upstream", async () => {
    const { body } = await get(t, "?per_page=3&page=100");
    expect(body).toEqual({
      items: [],
      meta: {
        first: `${L}?page=1&per_page=3`,
        last: `${L}?page=13&per_page=3`,
        next: null,
        page: 100,
        pages: 13,
        per_page: 3,
        prev: `${L}?page=99&per_page=3`,
        total: 38,
      },
    });
  });

  it("an empty result, verbatim from upstream", async () => {
    const res = await t.request("/api/1/composes/?per_page=2&state=done");
    expect(await res.text()).toBe(
      '{"items":[],"meta":{"first":"http://localhost/api/1/composes/?page=1&per_page=2&state=done","last":"http://localhost/api/1/composes/?page=0&per_page=2&state=done","next":null,"page":1,"pages":0,"per_page":2,"prev":null,"total":0}}',
    );
  });

  it("links copy other parameters, dropping _x and endpoint", async () => {
    const { body } = await get(t, "?foo=bar&per_page=3&_x=1&endpoint=zz&owner=unknown");
    expect(body.meta.first).toBe(`${L}?page=1&per_page=3&foo=bar&owner=unknown`);
    expect(body.meta.next).toBe(`${L}?page=2&per_page=3&foo=bar&owner=unknown`);
  });

  it("links form-encode values (space → +, ~ kept, ü percent-encoded)", async () => {
    const { body } = await get(t, "?per_page=1&label=a%2Fb%3Ac%23d%20e%2Bf%26gü&owner=x~y");
    expect(body.meta.first).toBe(
      `${L}?page=1&per_page=1&label=a%2Fb%3Ac%23d+e%2Bf%26g%C3%BC&owner=x~y`,
    );
  });

  it("links keep empty and repeated parameters once, with the first value", async () => {
    const { body } = await get(t, "?owner=&owner=x&a=1&a=2&per_page=50");
    expect(body.meta.first).toBe(`${L}?page=1&per_page=50&owner=&a=1`);
    expect(body.meta.total).toBe(38);
  });

  const proxyHeaders = {
    "X-Forwarded-Host": "odcs.example.com",
    "X-Scheme": "https",
    "X-Script-Name": "/odcs/",
    "X-Forwarded-Proto": "ftp",
  };

  it("links honour X-Forwarded-Host, X-Scheme and X-Script-Name with ODCS_TRUST_PROXY", async () => {
    const trusted = await testApp({ config: { ODCS_TRUST_PROXY: "true" } });
    const { body } = await get(trusted, "?per_page=1", proxyHeaders);
    expect(body.meta.first).toBe("https://odcs.example.com/odcs/api/1/composes/?page=1&per_page=1");
  });

  it("links ignore the proxy headers without ODCS_TRUST_PROXY (any client could send them)", async () => {
    const { body } = await get(t, "?per_page=1", proxyHeaders);
    expect(body.meta.first).toBe(`${L}?page=1&per_page=1`);
  });

  it("links use the Host header", async () => {
    const { body } = await get(t, "?per_page=1", { Host: "odcs.internal:5000" });
    expect(body.meta.first).toBe("http://odcs.internal:5000/api/1/composes/?page=1&per_page=1");
  });

  it.each([
    ["per_page above 1000", "?per_page=1001", "per_page must be at most 1000"],
    ["page beyond a billion", "?page=1000000001", "page must be at most 1000000000"],
    ["a page beyond 64 bits", "?page=99999999999999999999999", "page must be at most 1000000000"],
  ])("%s → 400 (our bound; upstream overflows)", async (_name, query, message) => {
    const { status, body } = await get(t, query);
    expect({ status, body }).toEqual({ status: 400, body: odcsError(400, message) });
  });

  it("200 carries the CORS header; HEAD too, without a body", async () => {
    const { res } = await get(t, "");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("content-type")).toBe("application/json");
    const head = await t.request("/api/1/composes/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("access-control-allow-origin")).toBe("*");
    expect(await head.text()).toBe("");
  });

  it("also without the trailing slash", async () => {
    const res = await t.request("/api/1/composes?per_page=1");
    expect(res.status).toBe(200);
    expect((await res.json()).meta.first).toBe(`${L}?page=1&per_page=1`);
  });
});
