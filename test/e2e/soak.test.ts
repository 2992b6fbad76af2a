/**
 * The soak-and-chaos harness (bench/soak-run.ts, `npm run soak`) at CI
 * size: a server and two workers on one database, eight composes over a
 * local repo, an HTTP repo behind the fault-injecting proxy, a Koji tag and
 * Koji builds (some living seconds, so the sweep expires them), deletes
 * and renewals meanwhile, and from a fixed seed a worker kill -9, a server
 * kill -9, a SIGSTOP past the lease and one more action. Nothing may be
 * lost, stuck, partial, completed twice, unrecorded, answered 5xx or
 * answered otherwise than ODCS would.
 */
import { expect, test } from "vitest";
import { formatReport } from "../../bench/soak-run.ts";
import { expectTargetsMet, runCiSoak } from "../helpers/soak.ts";

test("a short soak under chaos meets every target", { timeout: 240_000 }, async () => {
  const report = await runCiSoak({
    seed: 18,
    faultRate: 0.1,
    drainMs: 120_000,
    opsEveryMs: 400,
    chaosActions: 4,
  });
  const text = formatReport(report);
  expect(report.submitted, text).toBeGreaterThanOrEqual(8);
  expect(report.chaos.workerKills, text).toBeGreaterThanOrEqual(1);
  expect(report.chaos.serverKills, text).toBeGreaterThanOrEqual(1);
  expect(report.chaos.stops, text).toBeGreaterThanOrEqual(1);
  for (const kind of ["localRepo", "httpRepo", "tag", "build"])
    expect(report.mix[kind], `${kind}\n${text}`).toBeGreaterThanOrEqual(1);
  expect(report.ops.deletes + report.ops.renewals, text).toBeGreaterThanOrEqual(1);
  expectTargetsMet(report, text);
});
