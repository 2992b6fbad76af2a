import { describe, expect, it } from "vitest";
import {
  type ComposeFilters,
  type ComposeOrder,
  countsKey,
  FILTER_KEYS,
  listQueriesSql,
  ORDER_KEYS,
  pageStrategy,
} from "../../src/db/compose-list.ts";
import { createTestDb } from "../helpers/db.ts";

const VALUES: Required<ComposeFilters> = {
  owner: "alice",
  sourceType: 3,
  source: "/srv/repos/a",
  state: 2,
  kojiTaskId: 7,
  pungiComposeId: "odcs-1-1-20260101.n.0",
  composeType: "test",
  label: "RC-1.0",
};

const ORDERS: ComposeOrder[] = ORDER_KEYS.flatMap((key) => [
  { key, descending: false },
  { key, descending: true },
]);
const DEFAULT_ORDER: ComposeOrder = { key: "id", descending: true };

function filtersOf(keys: readonly (keyof ComposeFilters)[]): ComposeFilters {
  return Object.fromEntries(keys.map((k) => [k, VALUES[k]]));
}

/** Every query shape the list endpoint can issue, as (name, filters, order). */
function shapes(): [string, ComposeFilters, ComposeOrder][] {
  const out: [string, ComposeFilters, ComposeOrder][] = [];
  const name = (keys: readonly string[], o: ComposeOrder) =>
    `${keys.join("+") || "(none)"} order_by=${o.descending ? "-" : ""}${o.key}`;
  // No filter or one filter, with every order in both directions.
  for (const keys of [[], ...FILTER_KEYS.map((k) => [k])] as (keyof ComposeFilters)[][])
    for (const o of ORDERS) out.push([name(keys, o), filtersOf(keys), o]);
  // Every pair and the common triples, with the default order and -time_submitted.
  const combos: (keyof ComposeFilters)[][] = [
    ["owner", "state", "label"],
    ["owner", "sourceType", "state"],
    ["sourceType", "source", "state"],
    FILTER_KEYS.slice(),
  ];
  for (let i = 0; i < FILTER_KEYS.length; i++)
    for (let j = i + 1; j < FILTER_KEYS.length; j++)
      combos.push([FILTER_KEYS[i], FILTER_KEYS[j]] as (keyof ComposeFilters)[]);
  for (const keys of combos)
    for (const o of [DEFAULT_ORDER, { key: "time_submitted", descending: true } as const])
      out.push([name(keys, o), filtersOf(keys), o]);
  return out;
}

async function plan(
  client: Awaited<ReturnType<typeof createTestDb>>["client"],
  sql: string,
): Promise<string[]> {
  const n = (sql.match(/\?/g) ?? []).length;
  const rs = await client.execute({
    sql: `EXPLAIN QUERY PLAN ${sql}`,
    args: Array.from({ length: n }, () => 1),
  });
  return rs.rows.map((r) => String(r.detail));
}

/** A full-table read: `SCAN composes` with no index after it. */
const isTableScan = (line: string) => /^SCAN composes(?! USING)/.test(line);

describe("list query plans (EXPLAIN QUERY PLAN)", async () => {
  const { db, client } = await createTestDb();

  it.each(shapes())("%s reads composes through an index", async (_, filters, order) => {
    const q = listQueriesSql(db, filters, order);
    const pagePlan = await plan(client, q.page);
    const noFilter = Object.keys(filters).length === 0;
    if (noFilter && order.key === "id") {
      // The table is the id index: reading it in rowid order stops after offset + limit rows.
      expect(pagePlan).toEqual(["SCAN composes"]);
    } else {
      expect(pagePlan.filter(isTableScan), pagePlan.join("\n")).toEqual([]);
      expect(pagePlan.join("\n")).toMatch(/USING (COVERING )?INDEX composes_/);
    }
    if (noFilter && order.key !== "id") expect(pagePlan.join("\n")).not.toMatch(/TEMP B-TREE/);
    // Equality on one column ordered by id: the index already holds the rowid order.
    if (Object.keys(filters).length === 1 && order.key === "id")
      expect(pagePlan.join("\n")).not.toMatch(/TEMP B-TREE/);
    if (countsKey(filters) === undefined) {
      const countPlan = await plan(client, q.count);
      expect(countPlan.filter(isTableScan), countPlan.join("\n")).toEqual([]);
      expect(countPlan.join("\n")).toMatch(/USING (COVERING )?INDEX composes_/);
    }
  });

  // Never chosen for id, the table itself.
  it.each(shapes().filter(([, , o]) => o.key !== "id"))(
    "%s walking the order's index reads no table and sorts nothing",
    async (_, filters, order) => {
      const walk = await plan(client, listQueriesSql(db, filters, order, "walk").page);
      expect(walk.filter(isTableScan), walk.join("\n")).toEqual([]);
      if (order.key !== "id" || Object.keys(filters).length === 0)
        expect(walk.join("\n"), walk.join("\n")).not.toMatch(/TEMP B-TREE/);
    },
  );

  it.each(ORDERS.filter((o) => o.key !== "state"))(
    "a state filter ordered by %o reads its page off one (state, key) index",
    async (order) => {
      for (const strategy of ["filter", "walk"] as const) {
        const p = await plan(client, listQueriesSql(db, { state: 2 }, order, strategy).page);
        expect(p.join("\n")).toMatch(/SEARCH composes USING INDEX composes_state_\w+ \(state=\?\)/);
        expect(p.join("\n")).not.toMatch(/TEMP B-TREE/);
      }
    },
  );

  it.each([
    [{ owner: "alice", sourceType: 2 }, "composes_owner_state_idx"],
    [{ label: "x", state: 2 }, "composes_label_idx"],
    [{ source: "x", state: 2, owner: "bob" }, "composes_source_idx"],
    [{ pungiComposeId: "x", label: "y" }, "composes_pungi_compose_id_idx"],
  ] as [ComposeFilters, string][])(
    "%o sorts the matches found through its most selective index %s",
    async (filters, index) => {
      const q = listQueriesSql(db, filters, { key: "time_done", descending: true }, "filter");
      expect((await plan(client, q.page)).join("\n")).toContain(`INDEX ${index} (`);
      expect((await plan(client, q.count)).join("\n")).toContain(`INDEX ${index} (`);
    },
  );

  it("sorts few matches and walks the order's index for many", () => {
    const order: ComposeOrder = { key: "time_submitted", descending: true };
    // 2 000 of a million, page 1: sorting 2 000 beats walking ~5 000 rows.
    expect(pageStrategy({ owner: "a" }, order, 2_000, 1_000_000, 10)).toBe("filter");
    // 20 000 of a million: walking ~500 rows beats sorting 20 000.
    expect(pageStrategy({ owner: "a" }, order, 20_000, 1_000_000, 10)).toBe("walk");
    // Far pages walk further.
    expect(pageStrategy({ owner: "a" }, order, 20_000, 1_000_000, 1_000)).toBe("filter");
    // Nothing to choose: ordered by id, or only filters the order's index holds.
    expect(pageStrategy({ owner: "a" }, DEFAULT_ORDER, 900_000, 1_000_000, 10)).toBe("filter");
    expect(pageStrategy({ state: 2 }, order, 900_000, 1_000_000, 10)).toBe("filter");
    expect(pageStrategy({ owner: "a" }, { key: "owner", descending: false }, 9e5, 1e6, 10)).toBe(
      "filter",
    );
  });

  it.each([
    [{ owner: "alice", state: 2 }, "composes_(owner_state|state_owner)_idx"],
    [{ state: 2, sourceType: 3 }, "composes_state_source_type_idx"],
  ] as [ComposeFilters, string][])(
    "%o searches the two-column index %s",
    async (filters, index) => {
      const q = listQueriesSql(db, filters, DEFAULT_ORDER);
      const both = new RegExp(`INDEX ${index} \\(\\w+=\\? AND \\w+=\\?\\)`);
      expect((await plan(client, q.page)).join("\n")).toMatch(both);
      expect((await plan(client, q.count)).join("\n")).toMatch(both);
    },
  );

  it("the maintained shapes read their total from compose_counts by primary key", async () => {
    expect(countsKey({})).toEqual(["all", ""]);
    expect(countsKey({ state: 2 })).toEqual(["state", "2"]);
    expect(countsKey({ owner: "alice" })).toEqual(["owner", "alice"]);
    expect(countsKey({ sourceType: 3 })).toEqual(["source_type", "3"]);
    expect(countsKey({ state: 2, owner: "alice" })).toBeUndefined();
    expect(countsKey({ label: "x" })).toBeUndefined();
    const p = await plan(client, "SELECT n FROM compose_counts WHERE kind = ? AND key = ?");
    expect(p.join("\n")).toMatch(
      /SEARCH compose_counts USING INDEX sqlite_autoindex_compose_counts/,
    );
  });
});
