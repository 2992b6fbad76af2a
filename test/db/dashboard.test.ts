import { describe, expect, it } from "vitest";
import { dashboardQueriesSql, SEARCH_WINDOW, searchComposes } from "../../src/db/dashboard.ts";
import { composes } from "../../src/db/schema.ts";
import { createTestDb } from "../helpers/db.ts";
import { COMPOSE_DEFAULTS, givenCompose } from "../helpers/given.ts";

type Client = Awaited<ReturnType<typeof createTestDb>>["client"];

async function plan(client: Client, q: { sql: string; params: unknown[] }): Promise<string> {
  const rs = await client.execute({
    sql: `EXPLAIN QUERY PLAN ${q.sql}`,
    args: q.params as (string | number | null)[],
  });
  return rs.rows.map((r) => String(r.detail)).join("\n");
}

describe("dashboard queries use an index, never a full scan", () => {
  it.each([
    ["search", /SEARCH composes USING INTEGER PRIMARY KEY \(rowid>\?\)/],
    ["searchCount", /SEARCH composes USING INTEGER PRIMARY KEY \(rowid>\?\)/],
    ["searchFiltered", /SEARCH composes USING (INDEX|INTEGER PRIMARY KEY)/],
    ["composeEvents", /SEARCH events USING INDEX events_compose_idx \(compose_id=\?\)/],
    ["activeJobs", /SEARCH jobs USING INDEX jobs_\w+_idx \(state=\?\)/],
    ["activeJob", /SEARCH jobs USING INDEX jobs_\w+_idx \(state=\?\)/],
    ["eventsBetween", /SEARCH events USING INDEX events_at_idx \(at>\? AND at<\?\)/],
    [
      "generationTimes",
      /SEARCH composes USING INDEX composes_time_done_idx \(time_done>\? AND time_done<\?\)/,
    ],
  ])("%s", async (name, expected) => {
    const { db, client } = await createTestDb();
    const q = dashboardQueriesSql(db)[name];
    if (!q) throw new Error(`no query ${name}`);
    const p = await plan(client, q);
    expect(p).toMatch(expected);
    expect(p).not.toMatch(/SCAN (composes|events|jobs)\b(?! USING)/);
  });
});

describe("searchComposes", () => {
  it("looks only at the newest SEARCH_WINDOW composes, and treats % and _ literally", async () => {
    const { db } = await createTestDb();
    await givenCompose(db, { source: "/srv/old-bash", packages: "bash" });
    const rows = Array.from({ length: SEARCH_WINDOW }, (_, i) =>
      i % 1000 === 0
        ? { ...COMPOSE_DEFAULTS, source: `/srv/r_${i}`, packages: "bash" }
        : { ...COMPOSE_DEFAULTS, source: "/srv/x", packages: null },
    );
    for (let i = 0; i < rows.length; i += 500)
      await db.insert(composes).values(rows.slice(i, i + 500));
    const order = { key: "id", descending: true } as const;
    const hits = await searchComposes(db, "bash", {}, order, 1, 50);
    expect(hits.total).toBe(SEARCH_WINDOW / 1000);
    expect(hits.rows.map((r) => r.source)).not.toContain("/srv/old-bash");
    const underscore = await searchComposes(db, "r_", {}, order, 1, 50);
    expect(underscore.total).toBe(SEARCH_WINDOW / 1000);
    expect((await searchComposes(db, "%", {}, order, 1, 50)).total).toBe(0);
  });
});
