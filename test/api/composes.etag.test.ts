import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { etagOf, noneMatchHits } from "../../src/api/etag.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { composes } from "../../src/db/schema.ts";
import { givenCompose, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

describe("conditional GET (ETag / If-None-Match)", () => {
  it("a compose answers its ETag, 304 while unchanged, 200 with a new ETag after a change", async () => {
    const t = await testApp();
    const c = await givenCompose(t.db);
    const first = await t.request(`/api/1/composes/${c.id}`);
    expect(first.status).toBe(200);
    const body = await first.text();
    const etag = first.headers.get("etag");
    expect(etag).toBe(etagOf(body));
    expect(first.headers.get("content-type")).toMatch(/^application\/json/);

    const again = await t.request(`/api/1/composes/${c.id}`, {
      headers: { "If-None-Match": String(etag) },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    // A weak form and a list of tags match too; another tag does not.
    for (const h of [`W/${etag}`, `"x", ${etag}`, "*"])
      expect(
        (await t.request(`/api/1/composes/${c.id}`, { headers: { "If-None-Match": h } })).status,
      ).toBe(304);
    const other = await t.request(`/api/1/composes/${c.id}`, {
      headers: { "If-None-Match": '"x"' },
    });
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(body);

    await moveCompose(t.db, c.id, "wait", "generating", T0 + 5);
    const changed = await t.request(`/api/1/composes/${c.id}`, {
      headers: { "If-None-Match": String(etag) },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect((await changed.json()).state_name).toBe("generating");
  });

  it("a list page answers its ETag and 304 until a compose on it changes", async () => {
    const t = await testApp();
    const a = await givenCompose(t.db, { owner: "alice" });
    await givenCompose(t.db, { owner: "bob" });
    const url = "/api/1/composes/?owner=alice";
    const first = await t.request(url);
    const etag = String(first.headers.get("etag"));
    expect(etag).toBe(etagOf(await first.text()));
    expect((await t.request(url, { headers: { "If-None-Match": etag } })).status).toBe(304);
    // Another filter's page has another tag.
    const bob = await t.request("/api/1/composes/?owner=bob", {
      headers: { "If-None-Match": etag },
    });
    expect(bob.status).toBe(200);
    await t.db.update(composes).set({ label: "RC" }).where(eq(composes.id, a.id));
    const changed = await t.request(url, { headers: { "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    expect((await changed.json()).items[0].label).toBe("RC");
  });

  it("If-None-Match matching follows RFC 9110's weak comparison", () => {
    expect(noneMatchHits(undefined, '"a"')).toBe(false);
    expect(noneMatchHits("", '"a"')).toBe(false);
    expect(noneMatchHits('"a"', '"a"')).toBe(true);
    expect(noneMatchHits('W/"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"b" , W/"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"ab"', '"a"')).toBe(false);
    expect(etagOf("x")).not.toBe(etagOf("y"));
  });
});
