import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { setWriteFault } from "../../src/db/client.ts";
import {
  createComposeWithJob,
  extendExpiry,
  getCompose,
  listComposes,
  moveCompose,
  requestRemoval,
} from "../../src/db/composes.ts";
import { composes, events } from "../../src/db/schema.ts";
import { createTestDb } from "../helpers/db.ts";
import { countRows, DAY_MS, givenCompose, T0 } from "../helpers/given.ts";

const values = {
  owner: "unknown",
  sourceType: 3,
  source: "/srv/repos/a",
  timeSubmitted: T0,
  timeToExpire: T0 + DAY_MS,
  arches: "x86_64",
};

describe("createComposeWithJob", () => {
  it("writes compose, job and event together", async () => {
    const { db } = await createTestDb();
    const row = await createComposeWithJob(db, values, { now: T0, maxAttempts: 3 });
    expect(row).toMatchObject({ id: 1, state: 0 });
    expect(await countRows(db)).toEqual({ composes: 1, jobs: 1, events: 1 });
  });

  it("writes nothing when a later insert fails (one transaction)", async () => {
    const { db } = await createTestDb();
    // A NULL max_attempts violates the jobs table after the compose was inserted.
    await expect(
      createComposeWithJob(db, values, { now: T0, maxAttempts: null as unknown as number }),
    ).rejects.toThrow();
    expect(await countRows(db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  });
});

describe("moveCompose", () => {
  it("moves only from the expected state, re-bases the lifetime on failure and records the event", async () => {
    const { db } = await createTestDb();
    await givenCompose(db);
    expect(await moveCompose(db, 1, "generating", "done", T0 + 5)).toBe(false);
    expect(await moveCompose(db, 1, "wait", "failed", T0 + 1000, { stateReason: "x" })).toBe(true);
    expect(await getCompose(db, 1)).toMatchObject({
      state: 4,
      stateReason: "x",
      timeToExpire: T0 + 1000 + DAY_MS,
      timeDone: null,
    });
    const evs = await db.select().from(events);
    expect(evs.map((e) => [e.fromState, e.toState, e.stateReason, e.at])).toEqual([
      [0, 4, "x", T0 + 1000],
    ]);
  });

  it("from any of several states: the event names the state it left; without a reason the current one is kept", async () => {
    const { db } = await createTestDb();
    await givenCompose(db, { state: 1, stateReason: "Compose thread started" });
    await givenCompose(db, { state: 0 });
    await givenCompose(db, { state: 2 });
    for (const id of [1, 2, 3]) await moveCompose(db, id, ["generating", "wait"], "failed", T0 + 7);
    const evs = await db.select().from(events);
    expect(evs.map((e) => [e.composeId, e.fromState, e.toState, e.stateReason])).toEqual([
      [1, 1, 4, "Compose thread started"],
      [2, 0, 4, null],
    ]);
    expect((await getCompose(db, 3)).state).toBe(2);
  });

  it("in the caller's transaction: rolled back with it, event and state alike", async () => {
    const { db } = await createTestDb();
    await givenCompose(db);
    await expect(
      db.transaction(async (tx) => {
        expect(await moveCompose(tx, 1, "wait", "generating", T0 + 1)).toBe(true);
        throw new Error("later step failed");
      }),
    ).rejects.toThrow("later step failed");
    expect((await getCompose(db, 1)).state).toBe(0);
    expect(await db.select().from(events)).toEqual([]);
    await db.transaction(async (tx) => {
      expect(await moveCompose(tx, 1, "wait", "generating", T0 + 1)).toBe(true);
    });
    expect((await db.select().from(events)).map((e) => e.toState)).toEqual([1]);
  });

  it("a fault before either statement leaves neither (one batch)", async () => {
    const { db } = await createTestDb();
    await givenCompose(db);
    for (const target of ["insert", "update"]) {
      setWriteFault(db, (statement) => {
        if (statement.toLowerCase().includes(target)) throw new Error("crash");
      });
      await expect(moveCompose(db, 1, "wait", "generating", T0 + 1)).rejects.toThrow();
    }
    setWriteFault(db, undefined);
    expect((await getCompose(db, 1)).state).toBe(0);
    expect(await db.select().from(events)).toEqual([]);
  });

  it("refuses transitions §10.1 does not have", async () => {
    const { db } = await createTestDb();
    await givenCompose(db);
    await expect(moveCompose(db, 1, "wait", "done", T0)).rejects.toThrow(
      "invalid compose transition wait -> done",
    );
  });
});

describe("requestRemoval and extendExpiry", () => {
  it("requestRemoval only touches done/failed composes", async () => {
    const { db } = await createTestDb();
    await givenCompose(db, { state: 1 });
    await givenCompose(db, { state: 2 });
    expect(await requestRemoval(db, 1, "root", T0 + 5)).toBeUndefined();
    expect(await requestRemoval(db, 2, "root", T0 + 5)).toMatchObject({
      removedBy: "root",
      timeToExpire: T0 + 5,
    });
  });

  it("extendExpiry takes the max for the compose, what it reuses and its reusers", async () => {
    const { db } = await createTestDb();
    await givenCompose(db, { state: 2, timeToExpire: T0 + 10 * DAY_MS });
    await givenCompose(db, { state: 2, reusedId: 1 });
    await givenCompose(db, { state: 2, reusedId: 2 });
    const row = await extendExpiry(db, await getCompose(db, 2), T0 + 2 * DAY_MS);
    expect(row.timeToExpire).toBe(T0 + 2 * DAY_MS);
    const all = await db
      .select({ id: composes.id, e: composes.timeToExpire })
      .from(composes)
      .orderBy(composes.id);
    expect(all).toEqual([
      { id: 1, e: T0 + 10 * DAY_MS },
      { id: 2, e: T0 + 2 * DAY_MS },
      { id: 3, e: T0 + 2 * DAY_MS },
    ]);
  });

  it("getCompose throws ODCS's 404 wording", async () => {
    const { db } = await createTestDb();
    await expect(getCompose(db, 3)).rejects.toThrow("No such compose found.");
  });
});

describe("listComposes", () => {
  it("filters, orders with id as tie-breaker and counts all matches", async () => {
    const { db } = await createTestDb();
    for (const owner of ["b", "a", "b", "a"]) await givenCompose(db, { owner });
    const page = await listComposes(db, { owner: "a" }, { key: "owner", descending: false }, 1, 1);
    expect({ ids: page.rows.map((r) => r.id), total: page.total }).toEqual({ ids: [2], total: 2 });
    const desc = await listComposes(db, {}, { key: "owner", descending: true }, 1, 10);
    expect(desc.rows.map((r) => r.id)).toEqual([3, 1, 4, 2]);
    await db.update(composes).set({ label: "x" }).where(eq(composes.id, 4));
    expect(
      (await listComposes(db, { label: "x" }, { key: "id", descending: true }, 1, 10)).total,
    ).toBe(1);
  });
});
