import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { compareEvr, rpmvercmp } from "../../src/rpm/evr.ts";
import type { Evr } from "../../src/rpm/types.ts";

const PAIRS = 20_000;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "0",
  "00",
  "1",
  "01",
  "2",
  "9",
  "10",
  "007",
  "123456789012345678901",
  "a",
  "b",
  "Z",
  "rc",
  "beta",
  "fc40",
  "el9_3",
  ".",
  ".",
  "_",
  "+",
  "~",
  "~",
  "^",
  "^",
  "git",
  "~~",
  "..",
];

function randomVersion(rnd: () => number): string {
  const n = Math.floor(rnd() * 6);
  let s = "";
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rnd() * PIECES.length)] ?? "";
  return s;
}

function randomEvr(rnd: () => number): Evr {
  const epochs = ["", "0", "1", "2", "10"];
  return {
    epoch: epochs[Math.floor(rnd() * epochs.length)] ?? "",
    // rpm rejects an empty version; an empty release is allowed.
    version: randomVersion(rnd) || "1",
    release: randomVersion(rnd),
  };
}

/** rpm's own answer through python3-rpm's labelCompare, all pairs in one process. */
async function rpmLabelCompare(pairs: [Evr, Evr][]): Promise<number[]> {
  const script = `
import json, sys, rpm
out = []
for line in sys.stdin:
    a, b = json.loads(line)
    t = lambda e: (e["epoch"] or None, e["version"], e["release"])
    out.append(rpm.labelCompare(t(a), t(b)))
print(json.dumps(out))
`;
  const child = promisify(execFile)("/usr/bin/python3", ["-c", script], { maxBuffer: 64 << 20 });
  child.child.stdin?.end(pairs.map((p) => JSON.stringify(p)).join("\n"));
  return JSON.parse((await child).stdout) as number[];
}

describe("EVR comparison agrees with rpm", () => {
  test(`${PAIRS} random EVR pairs vs rpm.labelCompare`, async () => {
    const rnd = prng(20240425);
    const pairs: [Evr, Evr][] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = randomEvr(rnd);
      // A third of the pairs share a prefix, so the interesting tails get compared.
      const b = rnd() < 0.33 ? { ...a, release: a.release + randomVersion(rnd) } : randomEvr(rnd);
      pairs.push([a, b]);
    }
    const expected = await rpmLabelCompare(pairs);
    const diffs = pairs.flatMap(([a, b], i) => {
      const ours = compareEvr(a, b);
      return ours === expected[i]
        ? []
        : [`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours=${ours} rpm=${expected[i]}`];
    });
    expect(diffs.slice(0, 20)).toEqual([]);
    expect(expected.filter((r) => r === 0).length).toBeGreaterThan(100);
    expect(expected.filter((r) => r === -1).length).toBeGreaterThan(5000);
    expect(expected.filter((r) => r === 1).length).toBeGreaterThan(5000);
  });

  test("documented rpmvercmp cases", () => {
    const cases: [string, string, number][] = [
      ["1.0", "1.0", 0],
      ["1.0", "2.0", -1],
      ["2.0.1", "2.0", 1],
      ["1.0~rc1", "1.0", -1],
      ["1.0~rc1", "1.0~rc2", -1],
      ["1.0^", "1.0", 1],
      ["1.0^git1", "1.0.1", -1],
      ["1.0^git1", "1.0~rc1", 1],
      ["001", "1", 0],
      ["1a", "1.a", 0],
      ["a", "1", -1],
      ["fc4", "fc.4", 0],
      ["5.5p1", "5.5p10", -1],
    ];
    for (const [a, b, r] of cases) {
      expect(rpmvercmp(a, b), `${a} vs ${b}`).toBe(r);
      expect(rpmvercmp(b, a), `${b} vs ${a}`).toBe(-r || 0);
    }
  });
});
