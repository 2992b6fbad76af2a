import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  finishedPerBucket,
  generationPercentiles,
  percentile,
  queueDepthPerBucket,
} from "../../src/dashboard/chart-data.ts";
import { niceMax } from "../../src/dashboard/charts.tsx";
import { composes, events } from "../../src/db/schema.ts";
import { T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const H = 3_600_000;

describe("chart data", () => {
  it("counts done and failed per bucket, ignoring other states and events outside the range", () => {
    const ev = [
      { at: T0 + 10, fromState: 1, toState: 2 },
      { at: T0 + H + 5, fromState: 1, toState: 4 },
      { at: T0 + H + 6, fromState: 1, toState: 2 },
      { at: T0 + H + 7, fromState: 0, toState: 1 },
      { at: T0 + 3 * H, fromState: 1, toState: 2 },
      { at: T0 - 1, fromState: 1, toState: 2 },
    ];
    expect(finishedPerBucket(ev, T0, T0 + 3 * H, H)).toEqual([
      { start: T0, done: 1, failed: 0 },
      { start: T0 + H, done: 1, failed: 1 },
      { start: T0 + 2 * H, done: 0, failed: 0 },
    ]);
  });

  it("nearest-rank percentiles per source type", () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([], 50)).toBeUndefined();
    const rows = [
      ...Array.from({ length: 100 }, (_, i) => ({ sourceType: 3, ms: (i + 1) * 1000 })),
      { sourceType: 1, ms: 42 },
    ];
    expect(generationPercentiles(rows)).toEqual([
      { sourceType: 1, count: 1, p50: 42, p90: 42, p99: 42 },
      { sourceType: 3, count: 100, p50: 50_000, p90: 90_000, p99: 99_000 },
    ]);
  });

  it("queue depth is worked back from the depth now through the range's events", () => {
    // Two composes arrive in hour 0; one starts and finishes in hour 1; one is still waiting.
    const ev = [
      { at: T0 + 1, fromState: null, toState: 0 },
      { at: T0 + 2, fromState: null, toState: 0 },
      { at: T0 + H + 1, fromState: 0, toState: 1 },
      { at: T0 + H + 2, fromState: 1, toState: 2 },
    ];
    expect(queueDepthPerBucket(ev, T0, T0 + 3 * H, H, 1)).toEqual([
      { start: T0, max: 2 },
      { start: T0 + H, max: 2 },
      { start: T0 + 2 * H, max: 1 },
    ]);
  });

  it("axis maxima are round", () => {
    expect([0, 1, 3, 7, 12, 99, 101].map(niceMax)).toEqual([1, 1, 5, 10, 20, 100, 200]);
  });
});

describe("charts page", () => {
  it("draws the composes finished, durations and queue depth from the db", async () => {
    const t = await testApp();
    for (const source of ["/srv/repos/a", "/srv/repos/b"]) {
      await t.postJson("/api/1/composes/", { source: { type: "repo", source } });
    }
    // Compose 1 finishes after 90 s; compose 2 is still waiting.
    await t.db
      .update(composes)
      .set({ state: 2, timeStarted: T0 + 30_000, timeDone: T0 + 120_000 })
      .where(eq(composes.id, 1));
    await t.db.insert(events).values([
      { composeId: 1, fromState: 0, toState: 1, at: T0 + 30_000 },
      { composeId: 1, fromState: 1, toState: 2, at: T0 + 120_000 },
    ]);
    t.clock.advance(10 * 60_000);
    const html = await (await t.request("/ui/charts")).text();
    expect(html).toContain("1 compose finished in the last 24 hours: 1 done, 0 failed.");
    expect(html).toContain("repo: p50 1 min 30 s, p90 1 min 30 s, p99 1 min 30 s (1 compose)");
    expect(html).toContain("at most 2 in the last 24 hours");
    expect(html).toMatch(/<rect class="bar-done"[^>]*height="(?!0")[\d.]+"/);
    const week = await (await t.request("/ui/charts?range=7d")).text();
    expect(week).toContain("in the last 7 days: 1 done, 0 failed.");
  });
});
