import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/libsql";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import * as schema from "../../src/db/schema.ts";
import { type JobRow, jobs } from "../../src/db/schema.ts";
import { removeOrphanDirs } from "../../src/sweep/expire.ts";
import { pruneFinishedJobs } from "../../src/sweep/prune-jobs.ts";
import { createTestDb, tempDir } from "../helpers/db.ts";
import { DAY_MS, givenCompose, T0 } from "../helpers/given.ts";

describe("pruneFinishedJobs (ODCS_JOBS_RETENTION_DAYS)", () => {
  it("deletes done/failed jobs older than the retention, keeps the rest and every compose", async () => {
    const { db } = await createTestDb();
    const now = T0 + 100 * DAY_MS;
    const c = await givenCompose(db, { state: 2 });
    const job = (state: JobRow["state"], ageDays: number) => ({
      composeId: c.id,
      kind: "generate" as const,
      state,
      runAt: T0,
      maxAttempts: 3,
      createdAt: T0,
      updatedAt: now - ageDays * DAY_MS,
    });
    // 2 500 old done jobs: more than one delete batch.
    await db.insert(jobs).values(Array.from({ length: 2500 }, () => job("done", 31)));
    await db
      .insert(jobs)
      .values([job("failed", 31), job("done", 29), job("failed", 29), job("running", 90)]);
    const queued = await db.insert(jobs).values(job("queued", 90)).returning({ id: jobs.id });
    const deps = { db, now: () => new Date(now), log: silentLogger };
    expect(await pruneFinishedJobs(deps, 30)).toBe(2501);
    const left = await db.select({ state: jobs.state, updatedAt: jobs.updatedAt }).from(jobs);
    expect(left.map((j) => `${j.state}:${(now - j.updatedAt) / DAY_MS}`).sort()).toEqual(
      ["done:29", "failed:29", "queued:90", "running:90"].sort(),
    );
    expect(queued).toHaveLength(1);
    expect(await pruneFinishedJobs(deps, 30)).toBe(0);
    expect(await pruneFinishedJobs(deps, 1)).toBe(2);
    expect((await db.select().from(schema.composes)).map((r) => r.id)).toEqual([c.id]);
  });
});

describe("removeOrphanDirs at scale", () => {
  it("looks up 1 200 compose dirs in a few queries, not one per dir", async () => {
    const { client } = await createTestDb();
    const queries: string[] = [];
    const db = drizzle(client, { schema, logger: { logQuery: (q) => queries.push(q) } });
    const target = tempDir("odcs-target-");
    const live = await givenCompose(db, { state: 2 });
    const removed = await givenCompose(db, { state: 3 });
    const reused = await givenCompose(db, { state: 3 });
    await givenCompose(db, { state: 2, reusedId: reused.id });
    const dirs = [
      live.id,
      removed.id,
      reused.id,
      ...Array.from({ length: 1197 }, (_, i) => 5000 + i),
    ];
    for (const id of dirs) mkdirSync(join(target, `odcs-${id}`));
    queries.length = 0;
    const gone = await removeOrphanDirs({
      db,
      now: () => new Date(T0),
      log: silentLogger,
      targetDir: target,
    });
    expect(gone.sort((a, b) => a - b)).toEqual(
      dirs.filter((id) => id !== live.id && id !== reused.id).sort((a, b) => a - b),
    );
    // Two queries per 500 ids: 3 chunks.
    expect(queries.length).toBe(6);
  });
});
