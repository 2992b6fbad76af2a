import Database from "libsql";
import { describe, expect, it } from "vitest";
import {
  type ComposeFilters,
  createListReader,
  listComposes,
  ORDER_KEYS,
} from "../../src/db/compose-list.ts";
import { createComposeReader } from "../../src/db/compose-reader.ts";
import { findCompose } from "../../src/db/composes.ts";
import { createTestDb } from "../helpers/db.ts";
import { DAY_MS, givenCompose, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

describe("createComposeReader", () => {
  it("reads the same ComposeRow as drizzle, every column, and undefined for no compose", async () => {
    const { db, url } = await createTestDb();
    const full = await givenCompose(db, {
      state: 2,
      stateReason: "Compose is generated successfully",
      timeStarted: T0 + 1,
      timeDone: T0 + 2,
      timeRemoved: T0 + 3,
      removedBy: "admin",
      kojiEvent: 123456789012,
      kojiTaskId: 7,
      packages: "bash wget",
      builds: "bash-5.2-1.fc40",
      sigkeys: "ABCD1234",
      multilibArches: "i686",
      multilibMethod: 3,
      label: "RC-1.0",
      pungiComposeId: "odcs-1-1-20261121.t.0",
      flags: 5,
      results: 3,
      reusedId: 1,
      sourcePins: '{"a":1}',
      regenerateOf: 1,
      baseModuleBrStreamVersionGte: 380000,
    });
    const bare = await givenCompose(db);
    const read = createComposeReader(new Database(url.slice("file:".length)));
    for (const row of [full, bare]) {
      expect(read(row.id)).toEqual(await findCompose(db, row.id));
      expect(read(row.id)).toEqual(row);
    }
    expect(read(999)).toBeUndefined();
  });

  it("GET /composes/<id> answers the same through the reader, and 404 for none", async () => {
    const plain = await testApp();
    await givenCompose(plain.db, { state: 2, label: "x", timeToExpire: T0 + DAY_MS });
    const read = createComposeReader(new Database(plain.dbUrl.slice("file:".length)));
    const fast = await testApp({ deps: { db: plain.db, readCompose: read } });
    const a = await plain.request("/api/1/composes/1");
    const b = await fast.request("/api/1/composes/1");
    expect(b.status).toBe(200);
    expect(await b.text()).toBe(await a.text());
    expect(b.headers.get("etag")).toBe(a.headers.get("etag"));
    const missing = await fast.request("/api/1/composes/2");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      status: 404,
      error: "Not Found",
      message: "No such compose found.",
    });
  });
});

describe("createListReader", () => {
  it("answers every filter and order shape as listComposes does", async () => {
    const { db, url } = await createTestDb();
    for (let i = 0; i < 60; i++)
      await givenCompose(db, {
        owner: `u${i % 4}`,
        state: i % 5,
        sourceType: i % 2 ? 3 : 1,
        source: `s${i % 3}`,
        label: i % 6 === 0 ? `L${i % 12}` : null,
        kojiTaskId: i % 7 === 0 ? i : null,
        kojiEvent: i % 2 ? 1000 - i : null,
        pungiComposeId: i % 5 === 2 ? `p${i % 10}` : null,
        composeType: i % 3 ? "test" : "production",
        timeSubmitted: T0 + ((i * 37) % 60),
        timeDone: i % 4 ? T0 + i : null,
      });
    const read = createListReader(new Database(url.slice("file:".length)), db);
    const filterSets: ComposeFilters[] = [
      {},
      { owner: "u1" },
      { state: 2 },
      { sourceType: 3 },
      { source: "s1" },
      { label: "L0" },
      { kojiTaskId: 14 },
      { pungiComposeId: "p2" },
      { composeType: "production" },
      { owner: "u2", state: 2 },
      { owner: "nobody" },
    ];
    for (const filters of filterSets)
      for (const key of ORDER_KEYS)
        for (const descending of [false, true])
          for (const [page, perPage] of [
            [1, 10],
            [2, 7],
          ] as const) {
            const order = { key, descending };
            expect(read(filters, order, page, perPage)).toEqual(
              await listComposes(db, filters, order, page, perPage),
            );
          }
  });
});
