/**
 * The bench scripts' flags (bench/cli-args.ts), run as a user runs them:
 * `--help` lists every flag the script takes; a typo, a missing value or a
 * value that is not a number stops it before it starts anything, exit 2,
 * naming the flag — not a stack trace, and not a soak of NaN composes.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { ROOT } from "../helpers/service.ts";

function run(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each([
  [
    "bench/soak.ts",
    [
      "--seed",
      "--workers",
      "--composes",
      "--kill-every-ms",
      "--lease-ms",
      "--fault-rate",
      "--drain-ms",
      "--ops-every-ms",
      "--max-attempts",
      "--crash-points",
      "--fill-disk",
      "--disk-mb",
      "--fill-every-ms",
      "--fill-for-ms",
      "--keep",
    ],
  ],
  ["bench/fuzz.ts", ["--seed", "--runs", "--parallel", "--entry"]],
])("%s", (script, flags) => {
  test("--help lists every flag and exits 0", () => {
    const r = run(script, "--help");
    expect(r.code, r.err).toBe(0);
    for (const flag of flags) expect(r.out).toContain(`  ${flag} `);
  });

  test.each([
    [["--bogus"], "Unknown option '--bogus'"],
    [["--seed"], "'--seed <value>' argument missing"],
    [["--seed", "x"], "--seed must be a"],
    [["--seed=-3"], "--seed must be a"],
    [["--seed", ""], "--seed must be a"],
  ])("%j exits 2 naming the flag, with the usage", (args, message) => {
    const r = run(script, ...args);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain("usage: npm run");
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

test("fuzz takes whole numbers only; soak's --fill-disk only the disks it knows", () => {
  const fuzz = run("bench/fuzz.ts", "--runs", "1.5");
  expect([fuzz.code, fuzz.err.split("\n")[0]]).toEqual([
    2,
    'fuzz: --runs must be a whole number ≥ 0, not "1.5"',
  ]);
  const soak = run("bench/soak.ts", "--fill-disk", "nope");
  expect([soak.code, soak.err.split("\n")[0]]).toEqual([
    2,
    'soak: --fill-disk names target, db, target,db (or all) or data, not "nope"',
  ]);
});

test("bench: --help names the benchmarks; an unknown name exits 2", () => {
  const help = run("bench/index.ts", "--help");
  expect(help.code, help.err).toBe(0);
  expect(help.out).toContain("Names: rpm, repodata-load, compose, api, koji, edge, flood");
  const r = run("bench/index.ts", "api", "nope");
  expect([r.code, r.err.split("\n")[0]]).toEqual([2, "bench: no benchmark named nope"]);
  expect(r.out).not.toContain("# bench api");
});
