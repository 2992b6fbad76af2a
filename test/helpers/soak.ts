/**
 * The soak harness (bench/soak-run.ts) at CI size, for the e2e tests that
 * run it: a server and two workers, eight composes, a chaos action every
 * second on average, a 2 s lease — and the soak's targets as assertions.
 */
import { expect } from "vitest";
import { formatReport, runSoak, type SoakOptions, type SoakReport } from "../../bench/soak-run.ts";

/** `runSoak` with the CI size; `opts` sets the seed and what each test varies. */
export function runCiSoak(
  opts: Omit<SoakOptions, "workers" | "composes" | "killEveryMs" | "leaseMs">,
): Promise<SoakReport> {
  return runSoak({ workers: 2, composes: 8, killEveryMs: 1000, leaseMs: 2000, ...opts });
}

/**
 * Every target met: nothing lost, stuck, partial, completed twice,
 * unrecorded, answered 5xx or answered otherwise than ODCS would, and the
 * report's last line says PASS. Each assertion fails with the whole report.
 */
export function expectTargetsMet(report: SoakReport, text = formatReport(report)): void {
  expect(report.lost, text).toEqual([]);
  expect(report.stuck, text).toEqual([]);
  expect(report.partial, text).toEqual([]);
  expect(report.double, text).toEqual([]);
  expect(report.missingEvents, text).toEqual([]);
  expect(report.errors5xx, text).toEqual([]);
  expect(report.unexpected, text).toEqual([]);
  expect(text.split("\n").at(-1)).toMatch(/^targets: lost 0\/0, .* — PASS$/);
}
