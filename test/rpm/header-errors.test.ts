import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  parseRpmHeader,
  RpmFormatError,
  readRpmHeaderAt,
  readRpmHeaderFromStream,
  tryParseRpmHeader,
} from "../../src/rpm/header.ts";
import { readRpmFileHeader } from "../../src/rpm/rpm-file.ts";
import { fixturePath } from "../helpers/fixtures.ts";

const SAMPLE = fixturePath("rpms/centos7-multilib/libcurl-7.29.0-59.el7_9.1.x86_64.rpm");
const bytes = new Uint8Array(readFileSync(SAMPLE));
const full = parseRpmHeader(bytes);
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "odcs-hdr-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Deterministic PRNG (mulberry32) so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("reading headers from partial input", () => {
  test("too few bytes report how many are needed; following that reaches the header end", () => {
    for (const start of [0, 10, 96, 111, 200, full.headerStart + 3, full.headerEnd - 1]) {
      let have = start;
      let steps = 0;
      for (;;) {
        const r = tryParseRpmHeader(bytes.subarray(0, have));
        if (r.ok) break;
        expect(r.needed).toBeGreaterThan(have);
        expect(r.needed).toBeLessThanOrEqual(full.headerEnd);
        have = r.needed;
        steps++;
      }
      expect(have).toBe(full.headerEnd);
      expect(steps).toBeLessThanOrEqual(5);
    }
    expect(full.headerEnd).toBeLessThan(bytes.length); // the payload was never needed
  });

  test("range reader asks only for missing bytes and never for the payload", async () => {
    const asked: [number, number][] = [];
    const h = await readRpmHeaderAt(async (offset, length) => {
      asked.push([offset, length]);
      return bytes.subarray(offset, offset + length);
    }, 256);
    expect(h).toEqual(full);
    const maxEnd = Math.max(...asked.map(([o, l]) => o + l));
    expect(maxEnd).toBe(full.headerEnd);
    expect(asked[0]).toEqual([0, 256]);
  });

  test("stream reader stops consuming once the headers are complete", async () => {
    let consumed = 0;
    async function* chunks() {
      for (let at = 0; at < bytes.length; at += 1000) {
        consumed++;
        yield bytes.subarray(at, at + 1000);
      }
    }
    expect(await readRpmHeaderFromStream(chunks())).toEqual(full);
    expect(consumed).toBe(Math.ceil(full.headerEnd / 1000));
  });

  test("file reader equals the in-memory parse", async () => {
    expect(await readRpmFileHeader(SAMPLE)).toEqual(full);
  });
});

describe("corrupt input gives RpmFormatError, never a crash or hang", () => {
  test("not an RPM", () => {
    const junk = new TextEncoder().encode("<html>404 not found</html>".padEnd(200, " "));
    expect(() => tryParseRpmHeader(junk)).toThrow(/not an RPM file/);
  });

  test("truncated file", async () => {
    const path = join(dir, "truncated.rpm");
    await writeFile(path, bytes.subarray(0, full.headerStart + 100));
    await expect(readRpmFileHeader(path)).rejects.toThrow(RpmFormatError);
    await expect(readRpmFileHeader(path)).rejects.toThrow(/truncated RPM: \d+ bytes, headers need/);
    expect(() => parseRpmHeader(bytes.subarray(0, 500))).toThrow(/truncated RPM/);
  });

  test("bad header magic and impossible index counts", () => {
    const badMagic = bytes.slice(0, full.headerEnd);
    badMagic[full.headerStart] = 0;
    expect(() => parseRpmHeader(badMagic)).toThrow(/bad main header magic/);
    const hugeIndex = bytes.slice(0, full.headerEnd);
    hugeIndex.set([0x7f, 0xff, 0xff, 0xff], 96 + 8);
    expect(() => parseRpmHeader(hugeIndex)).toThrow(/impossible index count/);
  });

  test("2000 random byte corruptions of the headers: parse or RpmFormatError only", () => {
    const rnd = prng(42);
    const outcomes = { parsed: 0, rejected: 0, needMore: 0 };
    for (let i = 0; i < 2000; i++) {
      const copy = bytes.slice(0, full.headerEnd);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        copy[Math.floor(rnd() * full.headerEnd)] = Math.floor(rnd() * 256);
      }
      try {
        const r = tryParseRpmHeader(copy);
        if (r.ok) outcomes.parsed++;
        else outcomes.needMore++;
      } catch (e) {
        expect(e).toBeInstanceOf(RpmFormatError);
        outcomes.rejected++;
      }
    }
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(outcomes.parsed + outcomes.rejected + outcomes.needMore).toBe(2000);
  });
});
