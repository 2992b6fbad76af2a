/**
 * The soak with a disk filled while composes run (`npm run soak --
 * --fill-disk target,db`) at CI size: the compose target dir and the
 * database's dir each on a private tmpfs, a server and two workers, a
 * worker kill -9 and a server kill -9, and from a fixed seed each disk
 * filled at a moment a compose is generating and freed a while later.
 * Nothing may be lost, stuck, partial, completed twice, unrecorded, left
 * in staging, written unacknowledged or answered 5xx (the database's 503s
 * are counted apart); a compose failed for space says so; once space is
 * back a compose of every source is done; the disks are unmounted after.
 */
import { execFileSync } from "node:child_process";
import { expect, test } from "vitest";
import { formatReport, runSoak } from "../../bench/soak-run.ts";
import { expectTargetsMet } from "../helpers/soak.ts";

const tmpfsMounts = () =>
  execFileSync("findmnt", ["-rn", "-t", "tmpfs", "-o", "TARGET"], { encoding: "utf8" }).split("\n");

test("a short soak with both disks filled while composes run meets every target", {
  timeout: 180_000,
}, async () => {
  const report = await runSoak({
    seed: 24,
    workers: 2,
    composes: 24,
    killEveryMs: 1500,
    leaseMs: 2000,
    faultRate: 0,
    drainMs: 60_000,
    opsEveryMs: 300,
    chaosActions: 2,
    maxAttempts: 2,
    fillDisk: {
      disks: ["target", "db"],
      diskMb: 64,
      fillEveryMs: 500,
      fillForMs: 2500,
      fillsPerDisk: 1,
    },
  });
  const text = formatReport(report);
  console.log(text);
  const disk = report.disk;
  expect(disk, text).toBeDefined();
  expect(disk?.fills.target?.fills, text).toBeGreaterThanOrEqual(1);
  expect(disk?.fills.db?.fills, text).toBeGreaterThanOrEqual(1);
  expect(disk?.fills.target?.aimed, text).toBeGreaterThanOrEqual(1);
  // A compose met the full target disk (and was retried, or failed saying so).
  expect(disk?.jobsMetFullDisk, text).toBeGreaterThanOrEqual(1);
  expect(disk?.recovery, text).toEqual({ submitted: 4, done: 4 });
  expect(report.chaos.workerKills + report.chaos.serverKills, text).toBeGreaterThanOrEqual(2);
  expectTargetsMet(report, text);
  // The disk soak's own targets.
  expect(report.leftovers, text).toEqual([]);
  expect(report.unacknowledged, text).toEqual([]);
  expect(report.unclearDisk, text).toEqual([]);
  expect(report.notRecovered, text).toEqual([]);
  expect(text).toMatch(/^disk: target disk \d+ fills/m);
  // Its own mounts are gone (other test files mount small disks of their own meanwhile).
  expect(disk?.mountPoints, text).toHaveLength(2);
  const mounts = tmpfsMounts();
  for (const m of disk?.mountPoints ?? []) expect(mounts).not.toContain(m);
});
