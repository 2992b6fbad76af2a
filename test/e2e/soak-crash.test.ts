/**
 * The soak's kills at random moments (`npm run soak:crash`) at CI size:
 * every process start (server and two workers) is armed at a crash point
 * drawn from the seed; each process that gets there is killed -9 and
 * restarted armed anew, until several have been, in the server and in the
 * workers. Then the soak's checks must all hold.
 */
import { expect, test } from "vitest";
import { crashPointsOf } from "../../bench/soak-crash.ts";
import { formatReport } from "../../bench/soak-run.ts";
import { expectTargetsMet, runCiSoak } from "../helpers/soak.ts";

test("a short soak killed at random crash points meets every target", {
  timeout: 180_000,
}, async () => {
  const report = await runCiSoak({
    seed: 19,
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
  expectTargetsMet(report, text);
});
