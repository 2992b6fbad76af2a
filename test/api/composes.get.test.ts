import { beforeAll, describe, expect, it } from "vitest";
import { composeJson, DAY_MS, givenCompose, odcsError, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

type App = Awaited<ReturnType<typeof testApp>>;
const NO_URL =
  "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

describe("GET /api/1/composes/<id>", () => {
  let t: App;
  beforeAll(async () => {
    t = await testApp();
    await givenCompose(t.db, {
      state: 2,
      stateReason: "Compose is generated successfully",
      timeSubmitted: T0 + 999,
      timeStarted: T0 + 1500,
      timeDone: T0 + 60_000,
      timeToExpire: T0 + DAY_MS,
      kojiEvent: 1234,
      pungiComposeId: "odcs-1-1-20261121.t.0",
      pungiConfigDump: "release_name = 'x'\n",
      packages: "bash",
      sigkeys: "ABCD1234",
    });
    await givenCompose(t.db, { state: 2, reusedId: 1 });
    await givenCompose(t.db, { state: 0, targetDir: "releases" });
  });

  it("answers the compose with pungi_config_dump and the CORS header", async () => {
    const res = await t.request("/api/1/composes/1");
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({
      ...composeJson(1, {
        koji_event: 1234,
        packages: "bash",
        pungi_compose_id: "odcs-1-1-20261121.t.0",
        sigkeys: "ABCD1234",
        state: 2,
        state_name: "done",
        state_reason: "Compose is generated successfully",
        time_done: "2026-11-21T08:01:00Z",
        time_started: "2026-11-21T08:00:01Z",
      }),
      pungi_config_dump: "release_name = 'x'\n",
    });
  });

  it("a reusing compose's URLs name the reused one; a null dump is still listed", async () => {
    const body = await (await t.request("/api/1/composes/2")).json();
    expect(body).toEqual({
      ...composeJson(2, {
        state: 2,
        state_name: "done",
        toplevel_url: "http://localhost/odcs/odcs-1",
        result_repo: "http://localhost/odcs/odcs-1/compose/Temporary",
        result_repofile: "http://localhost/odcs/odcs-1/compose/Temporary/odcs-1.repo",
      }),
      pungi_config_dump: null,
    });
  });

  it("a compose outside the default target dir has empty URLs", async () => {
    const body = await (await t.request("/api/1/composes/3")).json();
    expect(body).toMatchObject({
      target_dir: "releases",
      toplevel_url: "",
      result_repo: "",
      result_repofile: "",
    });
  });

  it("joins a target URL ending in / without doubling it", async () => {
    const other = await testApp({
      config: { ODCS_TARGET_DIR_URL: "http://odcs.example.com/composes/" },
    });
    await givenCompose(other.db);
    const body = await (await other.request("/api/1/composes/1")).json();
    expect(body.result_repo).toBe("http://odcs.example.com/composes/odcs-1/compose/Temporary");
  });

  it.each([["/api/1/composes/01"], ["/api/1/composes/1/"], ["/api/1/composes/0001"]])(
    "%s is compose 1",
    async (path) => {
      const res = await t.request(path);
      expect(res.status).toBe(200);
      expect((await res.json()).id).toBe(1);
    },
  );

  it.each([["/api/1/composes/99"], ["/api/1/composes/0"]])(
    "%s → 404 No such compose found.",
    async (path) => {
      const res = await t.request(path);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 404,
        body: odcsError(404, "No such compose found."),
      });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );

  it.each([
    ["/api/1/composes/abc"],
    ["/api/1/composes/-1"],
    ["/api/1/composes/1.0"],
    ["/api/1/composes/99999999999999999999"],
    ["/api/1/composes/1/x"],
  ])("%s is no route → 404 JSON", async (path) => {
    const res = await t.request(path);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 404,
      body: odcsError(404, NO_URL),
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("HEAD answers like GET without a body", async () => {
    const res = await t.request("/api/1/composes/1", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.text()).toBe("");
    expect((await t.request("/api/1/composes/99", { method: "HEAD" })).status).toBe(404);
  });
});
