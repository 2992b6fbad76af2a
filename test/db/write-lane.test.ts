import { performance } from "node:perf_hooks";
import { createClient } from "@libsql/client";
import { eq, sql } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import { BUSY_TIMEOUT_MS, createDb, setWriteFault } from "../../src/db/client.ts";
import { composes, events } from "../../src/db/schema.ts";
import { WriteLane, WriteLaneTimeoutError } from "../../src/db/write-lane.ts";
import { createTestDb } from "../helpers/db.ts";
import { givenCompose } from "../helpers/given.ts";

describe("WriteLane", () => {
  test("grants in order of asking, one holder at a time", async () => {
    const lane = new WriteLane();
    const order: string[] = [];
    const first = await lane.acquire(1000);
    const waiting = ["b", "c"].map(async (name) => {
      const release = await lane.acquire(1000);
      order.push(name);
      release();
    });
    order.push("a");
    expect(lane.held).toBe(true);
    first();
    first(); // idempotent: does not grant twice
    await Promise.all(waiting);
    expect(order).toEqual(["a", "b", "c"]);
    expect(lane.held).toBe(false);
  });

  test("a waiter gives up after its timeout and the lane stays usable", async () => {
    const lane = new WriteLane();
    const release = await lane.acquire(1000);
    await expect(lane.acquire(20)).rejects.toBeInstanceOf(WriteLaneTimeoutError);
    release();
    const again = await lane.acquire(20);
    again();
    expect(lane.held).toBe(false);
  });
});

describe("createDb's write lane", () => {
  test("a write on a second client of the file waits for an open transaction without freezing the process", async () => {
    const { db, url } = await createTestDb();
    const other = createDb(createClient({ url, timeout: BUSY_TIMEOUT_MS }));
    const c = await givenCompose(db, {});
    let committed = false;
    const t0 = performance.now();
    const tx = db.transaction(async (t) => {
      await t.update(composes).set({ label: "tx" }).where(eq(composes.id, c.id));
      // Kept open across a real wait (a timer), as a slow transaction would be.
      await new Promise((r) => setTimeout(r, 50));
      committed = true;
    });
    // Reads are not serialised: they answer while the transaction is open.
    const [row] = await other.select().from(composes).where(eq(composes.id, c.id));
    expect(row?.label).toBeNull();
    expect(committed).toBe(false);
    await other.update(composes).set({ label: "other" }).where(eq(composes.id, c.id));
    expect(committed).toBe(true);
    await tx;
    expect(performance.now() - t0).toBeLessThan(1000);
    const [after] = await db.select().from(composes).where(eq(composes.id, c.id));
    expect(after?.label).toBe("other");
  });

  test("a fault before a statement fails it; in a transaction everything rolls back and the lane is free", async () => {
    const { db } = await createTestDb();
    const c = await givenCompose(db, {});
    const seen: string[] = [];
    setWriteFault(db, (statement) => {
      seen.push(statement.split(" ")[0] ?? "");
      if (statement.startsWith('insert into "events"')) throw new Error("injected");
    });
    await expect(
      db.transaction(async (t) => {
        await t.update(composes).set({ label: "x" }).where(eq(composes.id, c.id));
        await t.insert(events).values({ composeId: c.id, fromState: 0, toState: 1, at: 1 });
      }),
    ).rejects.toMatchObject({ cause: { message: "injected" } });
    expect(seen).toEqual(["BEGIN", "update", "insert"]);
    setWriteFault(db, undefined);
    const [row] = await db.select().from(composes).where(eq(composes.id, c.id));
    expect(row?.label).toBeNull();
    // The lane was given back: the next write goes through at once.
    await db.run(sql`UPDATE composes SET label = 'y' WHERE id = ${c.id}`);
    const [again] = await db.select().from(composes).where(eq(composes.id, c.id));
    expect(again?.label).toBe("y");
  });
});
