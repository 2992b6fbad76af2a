import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/api/deps.ts";
import { givenCompose, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const NO_URL =
  "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
const NO_METHOD = "The method is not allowed for the requested URL.";

describe("unknown routes and methods answer ODCS JSON", () => {
  it.each([
    ["GET", "/api/1/"],
    ["GET", "/api/1/nothing"],
    ["GET", "/api/2/composes/"],
    ["POST", "/api/1/composes/1/renew"],
    ["DELETE", "/api/1/composes/abc"],
    ["GET", "/api/1/metricsx/"],
  ])("%s %s → 404", async (method, path) => {
    const t = await testApp();
    const res = await t.request(path, { method });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 404,
      body: odcsError(404, NO_URL),
    });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it.each([
    ["PUT", "/api/1/composes/1", "DELETE, GET, HEAD, OPTIONS, PATCH"],
    ["POST", "/api/1/composes/1", "DELETE, GET, HEAD, OPTIONS, PATCH"],
    ["PATCH", "/api/1/composes/", "GET, HEAD, OPTIONS, POST"],
    ["DELETE", "/api/1/composes", "GET, HEAD, OPTIONS, POST"],
    ["POST", "/api/1/about/", "GET, HEAD, OPTIONS"],
    ["POST", "/", "GET, HEAD, OPTIONS"],
  ])("%s %s → 405 with Allow", async (method, path, allow) => {
    const t = await testApp();
    await givenCompose(t.db);
    const res = await t.request(path, { method });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 405,
      body: odcsError(405, NO_METHOD),
    });
    expect(res.headers.get("allow")).toBe(allow);
  });

  it.each([
    ["/api/1/composes/", "GET, HEAD, OPTIONS, POST"],
    ["/api/1/composes", "GET, HEAD, OPTIONS, POST"],
    ["/api/1/composes/7", "DELETE, GET, HEAD, OPTIONS, PATCH"],
    ["/api/1/about/", "GET, HEAD, OPTIONS"],
    ["/", "GET, HEAD, OPTIONS"],
  ])("OPTIONS %s → 200, empty, Allow, no CORS header", async (path, allow) => {
    const t = await testApp();
    const res = await t.request(path, { method: "OPTIONS" });
    expect(res.status).toBe(200);
    expect(res.headers.get("allow")).toBe(allow);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await res.text()).toBe("");
  });

  it("OPTIONS of an unknown path → 404", async () => {
    const t = await testApp();
    expect((await t.request("/nope", { method: "OPTIONS" })).status).toBe(404);
  });
});

describe("unexpected failures", () => {
  it("→ 500 with a generic message, the request id in a header and the log", async () => {
    const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
    const log: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (msg, fields) => logged.push({ msg, fields }),
    };
    const t = await testApp({ deps: { log } });
    t.client.close();
    const res = await t.request("/api/1/composes/1");
    const requestId = res.headers.get("x-request-id");
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 500,
      body: {
        error: "Internal Server Error",
        message: "Internal server error; the request id is in the X-Request-Id header",
        status: 500,
      },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(requestId).toMatch(/\S/);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields?.requestId).toBe(requestId);
    expect(String(logged[0]?.fields?.err)).toMatch(/\n\s+at /);
  });

  it("every response carries an X-Request-Id", async () => {
    const t = await testApp();
    for (const path of ["/api/1/about/", "/api/1/composes/9", "/nope"]) {
      expect((await t.request(path)).headers.get("x-request-id"), path).toMatch(/\S/);
    }
  });
});

describe("the read-only app (edge)", () => {
  it("serves reads and refuses writes with 405", async () => {
    const { createApp } = await import("../../src/api/app.ts");
    const t = await testApp();
    await givenCompose(t.db);
    const ro = createApp(t.deps, { readOnly: true });
    expect((await ro.request("/api/1/composes/1")).status).toBe(200);
    expect((await ro.request("/api/1/composes/")).status).toBe(200);
    for (const [method, path] of [
      ["POST", "/api/1/composes/"],
      ["PATCH", "/api/1/composes/1"],
      ["DELETE", "/api/1/composes/1"],
    ] as const) {
      const res = await ro.request(path, { method, body: method === "DELETE" ? null : "{}" });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    }
  });
});

describe("the index page", () => {
  it("serves HTML under noauth (upstream 500s, §16.3)", async () => {
    const t = await testApp();
    const res = await t.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    // The dashboard's compose list, which links to the API.
    const html = await res.text();
    expect(html).toContain("<h1>Composes</h1>");
    expect(html).toContain('<a href="/api/1/composes/">/api/1/composes/</a>');
  });
});
