/**
 * The soak's chaos draw (bench/soak-run.ts `chooseChaos`): the kind is drawn
 * first, its target among the processes it can act on, so a draw is never
 * lost on a worker being restarted or stopped — the chaos comes at the rate
 * the soak says it does.
 */
import { describe, expect, test } from "vitest";
import { chooseChaos } from "../../bench/soak-run.ts";
import { prng } from "../helpers/corpus.ts";

describe("chooseChaos", () => {
  test("15 % server kills, 15 % stops, the rest worker kills, each on a worker it can act on", () => {
    expect(chooseChaos(0.1, 0, [0, 1, 2, 3], true)).toEqual({ kind: "kill server" });
    expect(chooseChaos(0.2, 0.99, [0, 1, 2, 3], true)).toEqual({ kind: "stop worker", worker: 3 });
    expect(chooseChaos(0.9, 0.5, [0, 1, 2, 3], true)).toEqual({ kind: "kill worker", worker: 2 });
  });

  test("the target is drawn among the workers it can act on, not among all of them", () => {
    // Workers 0, 1 and 3 are being restarted or stopped: every pick lands on 2.
    for (const pick of [0, 0.3, 0.6, 0.99])
      expect(chooseChaos(0.9, pick, [2], true)).toEqual({ kind: "kill worker", worker: 2 });
  });

  test("a server kill with the server down acts on a worker; a worker action with no worker is none", () => {
    expect(chooseChaos(0.1, 0.5, [1], false)).toEqual({ kind: "stop worker", worker: 1 });
    // Not the server: at a high rate that would keep it down while the workers restart.
    expect(chooseChaos(0.9, 0.5, [], true)).toEqual({ kind: "none" });
    expect(chooseChaos(0.2, 0.5, [], true)).toEqual({ kind: "none" });
    expect(chooseChaos(0.1, 0.5, [], false)).toEqual({ kind: "none" });
  });

  test("over many draws the kinds come in their shares", () => {
    const rnd = prng(7);
    const counts: Record<string, number> = {};
    for (let n = 0; n < 10_000; n++) {
      const kind = chooseChaos(rnd(), rnd(), [0, 1, 2, 3], true).kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    expect(counts["kill server"]).toBeGreaterThan(1_300);
    expect(counts["kill server"]).toBeLessThan(1_700);
    expect(counts["stop worker"]).toBeGreaterThan(1_300);
    expect(counts["stop worker"]).toBeLessThan(1_700);
    expect(counts.none).toBeUndefined();
  });
});
