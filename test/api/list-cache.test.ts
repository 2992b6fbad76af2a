import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { ListPageCache } from "../../src/api/list-cache.ts";
import { createDb } from "../../src/db/client.ts";
import { createListReader, createWritesReader } from "../../src/db/compose-list.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { composes } from "../../src/db/schema.ts";
import { givenCompose } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

/** The app reading lists on a synchronous connection of its own, as `npm start` does. */
async function cachedApp() {
  const t = await testApp();
  const sync = new Database(t.dbUrl.slice("file:".length));
  const readList = createListReader(sync, t.db);
  const writes = createWritesReader(sync);
  let reads = 0;
  const served = createApp({
    ...t.deps,
    readList: (...args) => {
      reads++;
      return readList(...args);
    },
    readListWrites: writes,
  });
  // Another process's connection to the same file: its writes pass no code of ours.
  const other = createDb(createClient({ url: t.dbUrl }));
  const list = async (query = "") => {
    const res = await served.request(`/api/1/composes/${query}`);
    return {
      res,
      body: (await res.json()) as {
        items: { id: number; state_name: string; label: string | null }[];
        meta: { total: number };
      },
    };
  };
  return { ...t, other, list, reads: () => reads, writes };
}

describe("ListPageCache", () => {
  it("hits only under the same writes value, and a stale entry is dropped", () => {
    const c = new ListPageCache();
    c.set("a", 7, { body: "x", etag: '"1"' });
    expect(c.get("a", 7)).toEqual({ body: "x", etag: '"1"', writes: 7 });
    expect(c.get("a", 8)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const c = new ListPageCache(2, 1000);
    c.set("a", 1, { body: "a", etag: "a" });
    c.set("b", 1, { body: "b", etag: "b" });
    c.get("a", 1);
    c.set("c", 1, { body: "c", etag: "c" });
    expect(c.get("b", 1)).toBeUndefined();
    expect(c.get("a", 1)?.body).toBe("a");
    expect(c.get("c", 1)?.body).toBe("c");
  });

  it("keeps at most maxBytes and never a page over a quarter of them", () => {
    const c = new ListPageCache(100, 40);
    c.set("big", 1, { body: "x".repeat(11), etag: "" });
    expect(c.size).toBe(0);
    for (const k of ["a", "b", "c", "d", "e"]) c.set(k, 1, { body: "y".repeat(10), etag: "" });
    expect(c.size).toBe(4);
    expect(c.get("a", 1)).toBeUndefined();
  });
});

describe("list pages kept while composes do not change", () => {
  it("answers a repeated list without reading, and sees every write of another connection", async () => {
    const t = await cachedApp();
    const a = await givenCompose(t.db, { owner: "alice" });
    await givenCompose(t.db, { owner: "bob" });

    const first = await t.list("?owner=alice");
    expect(first.body.meta.total).toBe(1);
    const again = await t.list("?owner=alice");
    expect(t.reads()).toBe(1);
    expect(again.res.headers.get("ETag")).toBe(first.res.headers.get("ETag"));
    expect(again.body).toEqual(first.body);

    // A state change made on another connection (no counted column but state).
    await moveCompose(t.other, a.id, "wait", "generating", 1);
    expect((await t.list("?owner=alice")).body.items[0]?.state_name).toBe("generating");
    expect(t.reads()).toBe(2);

    // A column no count follows (label) changes the page too.
    await t.other.update(composes).set({ label: "RC-9" }).where(eq(composes.id, a.id));
    const labelled = await t.list("?owner=alice");
    expect(labelled.body.items[0]?.label).toBe("RC-9");
    expect(labelled.res.headers.get("ETag")).not.toBe(first.res.headers.get("ETag"));

    // An insert and a delete.
    const b = await givenCompose(t.other, { owner: "alice" });
    expect((await t.list("?owner=alice")).body.meta.total).toBe(2);
    await t.other.delete(composes).where(eq(composes.id, b.id));
    expect((await t.list("?owner=alice")).body.meta.total).toBe(1);
    expect(t.reads()).toBe(5);
  });

  it("keys pages by the whole query and the external base URL", async () => {
    const t = await cachedApp();
    await givenCompose(t.db, { owner: "alice" });
    await t.list("?owner=alice&per_page=1");
    await t.list("?per_page=1&owner=alice");
    expect(t.reads()).toBe(2);
    const viaProxy = await t.list("?owner=alice&per_page=1");
    expect(viaProxy.body.meta).toEqual((await t.list("?owner=alice&per_page=1")).body.meta);
    expect(t.reads()).toBe(2);
  });

  it("keeps no answer to a bad query", async () => {
    const t = await cachedApp();
    for (let i = 0; i < 2; i++) {
      const res = await t.list("?per_page=100000");
      expect(res.res.status).toBe(400);
    }
    expect(t.reads()).toBe(0);
  });

  it("the writes count moves by one per insert, update and delete, in the writing transaction", async () => {
    const t = await cachedApp();
    const w0 = t.writes();
    const c = await givenCompose(t.other, {});
    expect(t.writes()).toBe(w0 + 1);
    await t.other.update(composes).set({ label: "x" }).where(eq(composes.id, c.id));
    expect(t.writes()).toBe(w0 + 2);
    await t.other
      .transaction(async (tx) => {
        await tx.update(composes).set({ label: "y" }).where(eq(composes.id, c.id));
        tx.rollback();
      })
      .catch(() => undefined);
    expect(t.writes()).toBe(w0 + 2);
    await t.other.delete(composes).where(eq(composes.id, c.id));
    expect(t.writes()).toBe(w0 + 3);
  });
});
