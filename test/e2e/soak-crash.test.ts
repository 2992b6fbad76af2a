/**
 * The soak's kills at random moments (`npm run soak:crash`) at CI size:
 * every process start (server and two workers) is armed at a crash point
 * drawn from the seed; each process that gets there is killed -9 and
 * restarted armed anew, until several have been, in the server and in the
 * workers. Then the soak's checks must all hold.
 */
import { expect, test } from "vitest";
import { crashPointsOf } from "../../bench/soak-crash.ts";
import { formatReport, runSoak } from "../../bench/soak-run.ts";

test("a short soak killed at random crash points meets every target", {
  timeout: 180_000,
}, async () => {
  const report = await runSoak({
    seed: 19,
    workers: 2,
    composes: 8,
    killEveryMs: 1000,
    leaseMs: 2000,
    faultRate: 0,
    drainMs: 90_000,
    opsEveryMs: 0,
    chaosActions: 0,
    crashShare: 1,
    crashKills: 3,
  });
  const text = formatReport(report);
  const reached = (kind: "worker" | "server") =>
    crashPointsOf(kind).filter((p) => (report.crashPoints[p]?.reached ?? 0) > 0);
  expect(reached("worker").length, text).toBeGreaterThanOrEqual(1);
  expect(reached("server").length, text).toBeGreaterThanOrEqual(1);
  expect(report.lost, text).toEqual([]);
  expect(report.stuck, text).toEqual([]);
  expect(report.partial, text).toEqual([]);
  expect(report.double, text).toEqual([]);
  expect(report.missingEvents, text).toEqual([]);
  expect(report.errors5xx, text).toEqual([]);
  expect(report.unexpected, text).toEqual([]);
  expect(text.split("\n").at(-1)).toMatch(/^targets: lost 0\/0, .* — PASS$/);
});
