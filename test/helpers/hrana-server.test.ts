import { join } from "node:path";
import { createClient, LibsqlError } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { MIGRATIONS, tempDir } from "./db.ts";
import { startHranaServer } from "./hrana-server.ts";

const server = await startHranaServer({ path: join(tempDir("hrana-"), "db.sqlite") });
afterAll(() => server.close());

async function pipeline(version: 2 | 3, body: unknown) {
  const res = await fetch(`${server.url}/v${version}/pipeline`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("@libsql/client over http://", () => {
  const client = createClient({ url: server.url });
  afterAll(() => client.close());

  it("executes with positional and named args and round-trips every value type", async () => {
    await client.execute("CREATE TABLE vals (i INTEGER, f REAL, t TEXT, b BLOB, n)");
    const ins = await client.execute({
      sql: "INSERT INTO vals VALUES (?, ?, ?, ?, ?)",
      args: [9007199254740993n, 1.5, "häj", new Uint8Array([0, 1, 255]), null],
    });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    const named = await client.execute({
      sql: "SELECT t, :x AS x, @y AS y FROM vals WHERE f = $f",
      args: { x: 7, y: "why", f: 1.5 },
    });
    expect(named.columns).toEqual(["t", "x", "y"]);
    expect(named.columnTypes).toEqual(["TEXT", "", ""]);
    expect(named.rows.map((r) => ({ ...r }))).toEqual([{ t: "häj", x: 7, y: "why" }]);
    const big = createClient({ url: server.url, intMode: "bigint" });
    const [row] = (await big.execute("SELECT i, f, b, n FROM vals")).rows;
    big.close();
    expect(row?.i).toBe(9007199254740993n);
    expect(row?.f).toBe(1.5);
    expect(new Uint8Array(row?.b as ArrayBuffer)).toEqual(new Uint8Array([0, 1, 255]));
    expect(row?.n).toBeNull();
  });

  it("answers SQL errors with SQLite's code, and the client keeps working", async () => {
    const err = await client.execute("SELEC 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((err as LibsqlError).code).toBe("SQLITE_ERROR");
    await client.execute("CREATE TABLE u (k TEXT PRIMARY KEY)");
    await client.execute("INSERT INTO u VALUES ('a')");
    const dup = await client.execute("INSERT INTO u VALUES ('a')").catch((e: unknown) => e);
    expect((dup as LibsqlError).code).toMatch(/^SQLITE_CONSTRAINT/);
    expect((await client.execute("SELECT count(*) AS c FROM u")).rows[0]?.c).toBe(1);
  });

  it("runs a batch as one transaction: a failing step rolls back the earlier ones", async () => {
    await client.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    const err = await client
      .batch(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"], "write")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((await client.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(0);
    const ok = await client.batch(["INSERT INTO t VALUES (1)", "SELECT k FROM t"], "write");
    expect(ok[1]?.rows[0]?.k).toBe(1);
  });

  it("keeps an interactive transaction on one stream across requests (batons)", async () => {
    await client.execute("CREATE TABLE tx (k INTEGER)");
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO tx VALUES (1)");
    expect((await tx.execute("SELECT count(*) AS c FROM tx")).rows[0]?.c).toBe(1);
    // Another connection does not see it before commit.
    expect((await client.execute("SELECT count(*) AS c FROM tx")).rows[0]?.c).toBe(0);
    await tx.rollback();
    expect((await client.execute("SELECT count(*) AS c FROM tx")).rows[0]?.c).toBe(0);
    const tx2 = await client.transaction("write");
    await tx2.execute("INSERT INTO tx VALUES (2)");
    await tx2.commit();
    expect((await client.execute("SELECT k FROM tx")).rows.map((r) => r.k)).toEqual([2]);
  });

  it("waits for another stream's write lock instead of failing", async () => {
    await client.execute("CREATE TABLE lock (k INTEGER)");
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO lock VALUES (1)");
    const blocked = client.execute("INSERT INTO lock VALUES (2)");
    let settled = false;
    void blocked.then(() => {
      settled = true;
    });
    await tx.execute("SELECT 1"); // a full round trip while the other write waits
    expect(settled).toBe(false);
    await tx.commit();
    await blocked;
    expect((await client.execute("SELECT k FROM lock ORDER BY k")).rows.map((r) => r.k)).toEqual([
      1, 2,
    ]);
  });

  it("a deferred transaction's first write waits for the lock and then commits", async () => {
    await client.execute("CREATE TABLE deferred (k INTEGER)");
    const holder = await client.transaction("write");
    await holder.execute("INSERT INTO deferred VALUES (1)");
    const waiter = await client.transaction("deferred");
    const write = waiter.execute("INSERT INTO deferred VALUES (2)");
    await holder.execute("SELECT 1");
    await holder.commit();
    await write;
    await waiter.commit();
    const rows = await client.execute("SELECT k FROM deferred ORDER BY k");
    expect(rows.rows.map((r) => r.k)).toEqual([1, 2]);
  });

  it("runs a script with executeMultiple (sequence) and drizzle migrations over it", async () => {
    await client.executeMultiple(
      "CREATE TABLE s1 (a); INSERT INTO s1 VALUES (1); INSERT INTO s1 VALUES (2);",
    );
    expect((await client.execute("SELECT sum(a) AS s FROM s1")).rows[0]?.s).toBe(3);
    const migrated = createClient({ url: server.url });
    await migrateDatabase(migrated, MIGRATIONS);
    const db = createDb(migrated);
    expect(await db.query.composes.findMany()).toEqual([]);
    migrated.close();
    expect(server.stats.requests.sequence).toBeGreaterThan(0);
    expect(server.stats.requests.batch).toBeGreaterThan(0);
  });
});

describe("the wire protocol, strictly", () => {
  it("gives a baton per request, refuses a used or unknown one, and none after close", async () => {
    const first = await pipeline(2, {
      baton: null,
      requests: [{ type: "execute", stmt: { sql: "SELECT 1 AS one", want_rows: true } }],
    });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      {
        type: "ok",
        response: {
          type: "execute",
          result: expect.objectContaining({
            cols: [{ name: "one", decltype: null }],
            rows: [[{ type: "integer", value: "1" }]],
            affected_row_count: 0,
          }),
        },
      },
    ]);
    const baton = first.body.baton as string;
    expect(typeof baton).toBe("string");
    const second = await pipeline(2, { baton, requests: [{ type: "close" }] });
    expect(second.body).toEqual({
      baton: null,
      base_url: null,
      results: [{ type: "ok", response: { type: "close" } }],
    });
    const reused = await pipeline(2, { baton, requests: [] });
    expect(reused.status).toBe(400);
    expect(reused.body.message).toMatch(/baton is invalid/);
    expect((await pipeline(2, { baton: "99.nope", requests: [] })).status).toBe(400);
  });

  it("refuses malformed pipelines with a 400 naming the field", async () => {
    const extra = await pipeline(2, { baton: null, requests: [], extra: 1 });
    expect(extra.status).toBe(400);
    const badType = await pipeline(2, { requests: [{ type: "explode" }] });
    expect(badType.status).toBe(400);
    expect(badType.body.message).toMatch(/requests\.0/);
    const badValue = await pipeline(2, {
      requests: [
        { type: "execute", stmt: { sql: "SELECT ?", args: [{ type: "integer", value: 1 }] } },
      ],
    });
    expect(badValue.status).toBe(400);
    const notJson = await fetch(`${server.url}/v2/pipeline`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${server.url}/v4/pipeline`, { method: "POST", body: "{}" })).status).toBe(
      404,
    );
  });

  it("store_sql, execute by sql_id, describe, close_sql; get_autocommit only on v3", async () => {
    const r = await pipeline(3, {
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT :a AS a, ?2 AS b" },
        { type: "describe", sql_id: 1 },
        {
          type: "execute",
          stmt: { sql_id: 1, named_args: [{ name: ":a", value: { type: "text", value: "x" } }] },
        },
        { type: "close_sql", sql_id: 1 },
        { type: "execute", stmt: { sql_id: 1 } },
        { type: "get_autocommit" },
        { type: "close" },
      ],
    });
    const results = r.body.results as { type: string; response?: unknown; error?: unknown }[];
    expect(results.map((x) => x.type)).toEqual(["ok", "ok", "ok", "ok", "error", "ok", "ok"]);
    expect(results[1]?.response).toEqual({
      type: "describe",
      result: {
        params: [{ name: ":a" }, { name: null }],
        cols: [
          { name: "a", decltype: null },
          { name: "b", decltype: null },
        ],
        is_explain: false,
        is_readonly: true,
      },
    });
    expect(results[4]?.error).toEqual({
      message: "SQL text 1 is not stored",
      code: "SQL_NOT_FOUND",
    });
    expect(results[5]?.response).toEqual({ type: "get_autocommit", is_autocommit: true });
    const v2 = await pipeline(2, { requests: [{ type: "get_autocommit" }, { type: "close" }] });
    expect((v2.body.results as { type: string }[])[0]?.type).toBe("error");
  });

  it("evaluates batch conditions and reports per-step errors", async () => {
    const r = await pipeline(3, {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql: "SELECT nosuchcol" } },
              { condition: { type: "error", step: 0 }, stmt: { sql: "SELECT 'ran'" } },
              { condition: { type: "ok", step: 0 }, stmt: { sql: "SELECT 'skipped'" } },
              { condition: { type: "is_autocommit" }, stmt: { sql: "SELECT 1" } },
            ],
          },
        },
        { type: "close" },
      ],
    });
    const batchResult = (r.body.results as { response: { result: Record<string, unknown[]> } }[])[0]
      ?.response.result;
    expect(batchResult?.step_results?.map((s) => s !== null)).toEqual([false, true, false, true]);
    expect(batchResult?.step_errors?.[0]).toEqual({
      message: expect.stringMatching(/no such column/),
      code: "SQLITE_ERROR",
    });
  });

  it("checks the bearer token when it has one", async () => {
    const guarded = await startHranaServer({
      path: join(tempDir("hrana-"), "db.sqlite"),
      authToken: "s3cret",
    });
    try {
      const bad = createClient({ url: guarded.url, authToken: "wrong" });
      await expect(bad.execute("SELECT 1")).rejects.toThrow(/Authentication failed/);
      bad.close();
      const good = createClient({ url: guarded.url, authToken: "s3cret" });
      expect((await good.execute("SELECT 2 AS x")).rows[0]?.x).toBe(2);
      good.close();
    } finally {
      await guarded.close();
    }
  });
});
