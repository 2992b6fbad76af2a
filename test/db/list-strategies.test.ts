import Database from "libsql";
import { describe, expect, it } from "vitest";
import {
  type ComposeFilters,
  type ComposeOrder,
  createListReader,
  FILTER_KEYS,
  listComposes,
  listQueriesSql,
  ORDER_KEYS,
  type PageStrategy,
} from "../../src/db/compose-list.ts";
import type { ComposeRow } from "../../src/db/schema.ts";
import { createTestDb } from "../helpers/db.ts";
import { givenCompose, T0 } from "../helpers/given.ts";

/** Row values in a fixed, varied pattern: repeats, NULLs, ties in every order key. */
function rowOf(i: number) {
  const state = [0, 1, 2, 3, 3, 3, 4][i % 7] as number;
  return {
    owner: `user${i % 5}`,
    sourceType: [1, 2, 3, 6][i % 4] as number,
    source: `src${i % 6}`,
    state,
    kojiTaskId: i % 9 === 0 ? 100 + (i % 2) : null,
    pungiComposeId: i % 11 === 0 ? `odcs-${i % 3}` : null,
    composeType: i % 3 === 0 ? "production" : "test",
    label: i % 4 === 0 ? `RC-${i % 3}` : null,
    kojiEvent: i % 5 === 0 ? null : 1000 + (i % 13),
    timeSubmitted: T0 + (i % 17) * 1000,
    timeToExpire: T0 + (i % 19) * 1000,
    timeDone: state === 2 || state === 3 ? T0 + (i % 23) * 1000 : null,
    timeRemoved: state === 3 ? T0 + (i % 29) * 1000 : null,
  };
}

const COLUMN: Record<string, keyof ComposeRow> = {
  id: "id",
  owner: "owner",
  source_type: "sourceType",
  koji_event: "kojiEvent",
  state: "state",
  time_to_expire: "timeToExpire",
  time_submitted: "timeSubmitted",
  time_done: "timeDone",
  time_removed: "timeRemoved",
};

/** SQLite's order: NULL lowest, then numbers, then text by bytes; ties by id, same direction. */
function reference(
  rows: ComposeRow[],
  f: ComposeFilters,
  o: ComposeOrder,
  page: number,
  per: number,
) {
  const cmp = (a: unknown, b: unknown) => {
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    return (a as number | string) < (b as number | string) ? -1 : 1;
  };
  const col = COLUMN[o.key] as keyof ComposeRow;
  const matching = rows.filter((r) =>
    FILTER_KEYS.every((k) => f[k] === undefined || r[k as keyof ComposeRow] === f[k]),
  );
  const sign = o.descending ? -1 : 1;
  matching.sort((a, b) => sign * (cmp(a[col], b[col]) || cmp(a.id, b.id)));
  return {
    ids: matching.slice((page - 1) * per, page * per).map((r) => r.id),
    total: matching.length,
  };
}

const FILTER_SETS: ComposeFilters[] = [
  {},
  { owner: "user1" },
  { state: 3 },
  { sourceType: 2 },
  { source: "src4" },
  { label: "RC-1" },
  { composeType: "test" },
  { kojiTaskId: 100 },
  { pungiComposeId: "odcs-2" },
  { owner: "user2", state: 3 },
  { owner: "user3", sourceType: 6 },
  { state: 2, sourceType: 1 },
  { source: "src1", composeType: "production", owner: "user4" },
  { label: "RC-0", state: 0 },
];
const ORDERS: ComposeOrder[] = ORDER_KEYS.flatMap((key) => [
  { key, descending: false },
  { key, descending: true },
]);

describe("every list strategy gives the same page", async () => {
  const { db, url } = await createTestDb();
  for (let i = 0; i < 240; i++) await givenCompose(db, rowOf(i));
  const sync = new Database(url.slice("file:".length));
  const all = (await listComposes(db, {}, { key: "id", descending: false }, 1, 1000)).rows;
  const syncList = createListReader(sync, db);

  /** The page read with `strategy` forced, by the SQL the list functions run. */
  const forced = (
    f: ComposeFilters,
    o: ComposeOrder,
    page: number,
    per: number,
    s: PageStrategy,
  ) => {
    const args = [
      ...FILTER_KEYS.filter((k) => f[k] !== undefined).map((k) => f[k]),
      per,
      (page - 1) * per,
    ];
    const rows = sync
      .prepare(listQueriesSql(db, f, o, s).page)
      .raw(true)
      .all(...args) as unknown[][];
    return rows.map((r) => r[0]);
  };

  it.each(FILTER_SETS)("%o, every order, pages 1-3 of 7 and a page past the end", async (f) => {
    expect(all.length).toBe(240);
    for (const o of ORDERS)
      for (const [page, per] of [
        [1, 7],
        [2, 7],
        [3, 7],
        [40, 7],
        [1, 300],
      ] as const) {
        const want = reference(all, f, o, page, per);
        const what = `${JSON.stringify(f)} ${o.descending ? "-" : ""}${o.key} page ${page}`;
        const got = await listComposes(db, f, o, page, per);
        expect(
          got.rows.map((r) => r.id),
          what,
        ).toEqual(want.ids);
        expect(got.total, what).toBe(want.total);
        const viaSync = syncList(f, o, page, per);
        expect(
          viaSync.rows.map((r) => r.id),
          what,
        ).toEqual(want.ids);
        expect(viaSync.total, what).toBe(want.total);
        for (const s of ["filter", "walk"] as const)
          if (o.key !== "id") expect(forced(f, o, page, per, s), `${what} ${s}`).toEqual(want.ids);
      }
  });
});
