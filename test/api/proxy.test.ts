/**
 * Reverse-proxy headers are honoured only with ODCS_TRUST_PROXY=true: then
 * X-Script-Name is stripped from incoming paths and prefixed to links, and
 * X-Forwarded-Host / X-Scheme (or X-Forwarded-Proto) make absolute links.
 */
import { describe, expect, test } from "vitest";
import { externalBase, scriptName, stripScriptName } from "../../src/api/proxy.ts";
import { givenCompose } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const headers = (h: Record<string, string>) => new Headers(h);

describe("behind a trusted proxy with a path prefix", () => {
  test("the prefix is stripped from incoming paths, and links carry it", async () => {
    const t = await testApp({ config: { ODCS_TRUST_PROXY: "true" } });
    const { id } = await givenCompose(t.db, {});
    const h = {
      "X-Script-Name": "/odcs",
      "X-Forwarded-Host": "odcs.example.com",
      "X-Scheme": "https",
    };
    const one = await t.request(`/odcs/api/1/composes/${id}`, { headers: h });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: number }).id).toBe(id);
    // A proxy that strips the prefix itself: the path is used as it comes.
    expect((await t.request(`/api/1/composes/${id}`, { headers: h })).status).toBe(200);
    const list = await t.request("/odcs/api/1/composes/?per_page=1", { headers: h });
    expect(((await list.json()) as { meta: { first: string } }).meta.first).toBe(
      "https://odcs.example.com/odcs/api/1/composes/?page=1&per_page=1",
    );
    const index = await (await t.request("/odcs/", { headers: h })).text();
    expect(index).toContain('<a href="/odcs/api/1/composes/">');
    expect(index).toContain('<a href="/odcs/api/1/docs">');
    // Unknown routes under the prefix are still the ODCS 404.
    const missing = await t.request("/odcs/api/1/nope", { headers: h });
    expect(missing.status).toBe(404);
  });

  test("without ODCS_TRUST_PROXY the prefix is not stripped and not linked", async () => {
    const t = await testApp();
    const h = { "X-Script-Name": "/odcs" };
    const res = await t.request("/odcs/api/1/composes/", { headers: h });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      status: 404,
      error: "Not Found",
      message:
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
    });
    const index = await (await t.request("/", { headers: h })).text();
    expect(index).toContain('<a href="/api/1/composes/">');
  });

  test("an X-Script-Name that is not a plain path is ignored, never put in a page", async () => {
    const t = await testApp({ config: { ODCS_TRUST_PROXY: "true" } });
    const index = await (
      await t.request("/", { headers: { "X-Script-Name": '/x"><script>alert(1)</script>' } })
    ).text();
    expect(index).not.toContain("<script>");
    expect(index).toContain('<a href="/api/1/composes/">');
  });
});

describe("the pure helpers", () => {
  test.each([
    ["/odcs/api/1/composes", "/odcs", "/api/1/composes"],
    ["/odcs", "/odcs", "/"],
    ["/odcsx/api", "/odcs", "/odcsx/api"],
    ["/api/1/composes", "/odcs", "/api/1/composes"],
    ["/api/1/composes", "", "/api/1/composes"],
  ])("stripScriptName(%s, %s) = %s", (path, prefix, out) => {
    expect(stripScriptName(path, prefix)).toBe(out);
  });

  test.each([
    [{ "X-Script-Name": "/odcs/" }, true, "/odcs"],
    [{ "X-Script-Name": "odcs" }, true, "/odcs"],
    [{ "X-Script-Name": "/odcs" }, false, ""],
    [{ "X-Script-Name": "/a b" }, true, ""],
    [{}, true, ""],
  ])("scriptName(%j, trusted %s) = %j", (h, trusted, out) => {
    expect(scriptName(headers(h), trusted)).toBe(out);
  });

  test("externalBase: X-Scheme wins over X-Forwarded-Proto; the first of a list counts; untrusted uses Host only", () => {
    const url = new URL("http://10.0.0.5:5000/api/1/composes/");
    const h = headers({
      Host: "10.0.0.5:5000",
      "X-Forwarded-Proto": "https, http",
      "X-Forwarded-Host": "odcs.example.com, proxy.internal",
    });
    expect(externalBase(url, h, true)).toBe("https://odcs.example.com");
    h.set("X-Scheme", "http");
    expect(externalBase(url, h, true)).toBe("http://odcs.example.com");
    expect(externalBase(url, h, false)).toBe("http://10.0.0.5:5000");
  });
});
