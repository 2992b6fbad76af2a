import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/test-app.ts";

describe("GET /api/1/about/", () => {
  it.each([["/api/1/about/"], ["/api/1/about"]])(
    "%s answers exactly the five keys",
    async (path) => {
      const t = await testApp();
      const res = await t.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await res.text()).toBe(
        '{"allowed_clients":{"groups":{},"users":{}},"auth_backend":"noauth","raw_config_urls":{},"sigkeys":[],"version":"test"}',
      );
    },
  );

  it("publishes the configured allowed_clients and default sigkeys", async () => {
    const t = await testApp({
      config: {
        ODCS_SIGKEYS: "DEF1,DEF2",
        ODCS_ALLOWED_CLIENTS: {
          users: { alice: { source_types: ["repo"] } },
          groups: { packagers: {} },
        },
        ODCS_ADMINS: { users: ["root"], groups: [] },
      },
      deps: { version: "1.2.3" },
    });
    expect(await (await t.request("/api/1/about")).json()).toEqual({
      allowed_clients: { groups: { packagers: {} }, users: { alice: { source_types: ["repo"] } } },
      auth_backend: "noauth",
      raw_config_urls: {},
      sigkeys: ["DEF1", "DEF2"],
      version: "1.2.3",
    });
  });

  it("names the openidc backend", async () => {
    const t = await testApp({
      deps: { auth: { backend: "openidc", authenticate: async () => null } },
    });
    expect((await (await t.request("/api/1/about")).json()).auth_backend).toBe("openidc");
  });

  it("HEAD without a body; POST is not allowed", async () => {
    const t = await testApp();
    const head = await t.request("/api/1/about", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await t.request("/api/1/about/", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
  });
});
