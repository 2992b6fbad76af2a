/**
 * The soak-and-chaos harness (bench/soak-run.ts, `npm run soak`) at CI
 * size: a server and two workers on one database, six composes over a
 * local repo, an HTTP repo behind the fault-injecting proxy and a Koji tag,
 * with kill -9s, a server kill and SIGSTOPs past the lease from a fixed
 * seed. Nothing may be lost, stuck, partial, completed twice, unrecorded,
 * or answered 5xx.
 */
import { expect, test } from "vitest";
import { formatReport, runSoak } from "../../bench/soak-run.ts";

test("a short soak under chaos meets every target", { timeout: 240_000 }, async () => {
  const report = await runSoak({
    seed: 18,
    workers: 2,
    composes: 6,
    killEveryMs: 1000,
    leaseMs: 2000,
    faultRate: 0.1,
    drainMs: 120_000,
    opsEveryMs: 500,
    minChaosActions: 3,
  });
  const text = formatReport(report);
  expect(report.submitted, text).toBe(6);
  expect(
    report.chaos.workerKills + report.chaos.serverKills + report.chaos.stops,
  ).toBeGreaterThanOrEqual(3);
  expect(report.lost, text).toEqual([]);
  expect(report.stuck, text).toEqual([]);
  expect(report.partial, text).toEqual([]);
  expect(report.double, text).toEqual([]);
  expect(report.missingEvents, text).toEqual([]);
  expect(report.errors5xx, text).toEqual([]);
  expect(text.split("\n").at(-1)).toMatch(/^targets: lost 0\/0, .* — PASS$/);
});
