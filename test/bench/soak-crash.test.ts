/**
 * The soak's random crash points (bench/soak-crash.ts): every point is
 * drawn for the kind of process that reaches it, a seed gives the same
 * draws, the share is honoured, draws lean towards the points reached least,
 * and a stop is seen in a process's output however it grew.
 */
import { expect, test } from "vitest";
import { CrashArming, crashPointsOf, hasReached, reachedText } from "../../bench/soak-crash.ts";
import { CRASH_POINTS, type CrashPoint } from "../../src/crash-points.ts";

test("every crash point belongs to exactly one kind of process", () => {
  const worker = crashPointsOf("worker");
  const server = crashPointsOf("server");
  expect([...worker, ...server].sort()).toEqual(Object.keys(CRASH_POINTS).sort());
  expect(worker.every((p) => p.startsWith("generate:"))).toBe(true);
  expect(server.sort()).toEqual([
    "post:after-commit",
    "post:before-commit",
    "sweep:marked-removed",
    "sweep:removing",
  ]);
});

test("a seed gives the same draws; another seed others; the share is honoured", () => {
  const draws = (seed: number, share: number) => {
    const a = new CrashArming(seed, share);
    return Array.from({ length: 400 }, (_, i) => a.draw(i % 3 === 0 ? "server" : "worker"));
  };
  expect(draws(7, 0.5)).toEqual(draws(7, 0.5));
  expect(draws(8, 0.5)).not.toEqual(draws(7, 0.5));
  expect(draws(7, 0).every((d) => d === undefined)).toBe(true);
  expect(draws(7, 1).every((d) => d !== undefined)).toBe(true);
  const armed = draws(7, 0.5).filter((d) => d !== undefined).length;
  expect(armed).toBeGreaterThan(150);
  expect(armed).toBeLessThan(250);
  const a = new CrashArming(3, 1);
  for (let i = 0; i < 50; i++) {
    expect(crashPointsOf("worker")).toContain(a.draw("worker"));
    expect(crashPointsOf("server")).toContain(a.draw("server"));
  }
});

test("draws lean towards the points reached least, and every point gets drawn", () => {
  const a = new CrashArming(11, 1);
  const seen = new Map<CrashPoint, number>();
  for (let i = 0; i < 600; i++) {
    const p = a.draw("worker");
    if (!p) throw new Error("share 1 draws always");
    seen.set(p, (seen.get(p) ?? 0) + 1);
    // generate:started is reached every time it is armed, the others only now and then.
    if (p === "generate:started" || i % 4 === 0) a.reached(p);
  }
  for (const p of crashPointsOf("worker")) expect(seen.get(p) ?? 0).toBeGreaterThan(20);
  const counts = a.counts();
  const others = crashPointsOf("worker").filter((p) => p !== "generate:started");
  const mean = others.reduce((n, p) => n + (seen.get(p) ?? 0), 0) / others.length;
  expect(seen.get("generate:started") ?? 0).toBeLessThan(mean);
  expect(counts["generate:started"]).toEqual({
    armed: seen.get("generate:started"),
    reached: seen.get("generate:started"),
  });
});

test("a stop is seen in the output wherever the last look ended", () => {
  const text = reachedText("generate:placed");
  const out = `{"msg":"job claimed"}\n{"msg":"${text}"}\n`;
  const cut = out.indexOf(text) + 5;
  const first = hasReached(out.slice(0, cut), "generate:placed", 0);
  expect(first).toEqual({ reached: false, next: cut });
  expect(hasReached(out, "generate:placed", first.next).reached).toBe(true);
  expect(hasReached(out, "generate:staged", 0).reached).toBe(false);
});
