import { asc } from "drizzle-orm";
import { expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { events } from "../../src/db/schema.ts";
import { pruneOldEvents } from "../../src/sweep/prune-events.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

const DAY = 86_400_000;

it("the sweep deletes events older than the retention, keeps the rest", async () => {
  const h = await composeHarness();
  const REPO = { source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } };
  await h.create(REPO);
  h.clock.advance(3 * DAY);
  await h.create(REPO);
  const deps = { db: h.db, now: () => h.clock.now(), log: silentLogger, targetDir: h.target };
  expect(await pruneOldEvents({ ...deps, eventsRetentionDays: 3 })).toBe(0);
  h.clock.advance(1);
  expect(await pruneOldEvents({ ...deps, eventsRetentionDays: 3 })).toBe(1);
  const left = await h.db.select().from(events).orderBy(asc(events.id));
  expect(left.map((e) => e.composeId)).toEqual([2]);
  // Default: 14 days.
  h.clock.advance(14 * DAY - 2);
  expect(await pruneOldEvents(deps)).toBe(0);
  h.clock.advance(2);
  expect(await pruneOldEvents(deps)).toBe(1);
  await h.stopAll();
});
