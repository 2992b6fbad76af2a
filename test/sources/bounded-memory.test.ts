/**
 * A hostile source cannot make the worker hold unbounded memory: a small
 * primary.xml.gz that inflates to 4 GiB is opened the way the worker opens
 * a source, in a child process whose peak RSS is the figure (the test
 * runner's own heap stays out of it). Without the limits each would need
 * gigabytes: one record per package for the first, the whole text for the
 * second.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { bomb, copyOfRepo, packageBomb, replaceMetadata } from "../helpers/hostile-repo.ts";
import { ROOT } from "../helpers/service.ts";

const run = promisify(execFile);
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/**
 * Peak RSS allowed: Node + tsx + the fixture's other metadata take about
 * 100 MB; measured peaks were 166 MB (32 MiB of packages parsed before the
 * limit) and 177 MB (64 Mi characters of one unclosed element).
 */
const RSS_BOUND = 320 * MIB;

interface Outcome {
  error?: string;
  packages?: number;
  maxRssBytes: number;
}

async function openInChild(dir: string, maxMetadataBytes: number): Promise<Outcome> {
  const { stdout } = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "test/helpers/open-repo-child.ts"),
      dir,
      String(maxMetadataBytes),
    ],
    { cwd: ROOT, timeout: 120_000 },
  );
  return JSON.parse(stdout) as Outcome;
}

let packages: string;
let unclosed: string;
beforeAll(async () => {
  packages = await copyOfRepo();
  await replaceMetadata(packages, "primary", packageBomb(4 * GIB));
  unclosed = await copyOfRepo();
  await replaceMetadata(unclosed, "primary", bomb("gz", 4 * GIB));
});

describe("decompression bombs in a child process: clear failure, bounded RSS", () => {
  test("4 GiB of well-formed packages stop at ODCS_MAX_METADATA_BYTES", async () => {
    const out = await openInChild(packages, 32 * MIB);
    expect(out.error).toBe(
      `cannot read the metadata of ${packages}: cannot read primary metadata repodata/primary.xml.gz: ` +
        `it is larger than ${32 * MIB} bytes decompressed (ODCS_MAX_METADATA_BYTES); a broken or hostile repository`,
    );
    expect(out.maxRssBytes).toBeLessThan(RSS_BOUND);
  });

  test("one element that never closes stops at 64 Mi characters, whatever the byte limit", async () => {
    const out = await openInChild(unclosed, 8 * GIB);
    expect(out.error).toContain(
      "an element (up to </package>) is longer than 67108864 characters; this is not repository metadata",
    );
    expect(out.maxRssBytes).toBeLessThan(RSS_BOUND);
  });

  test("the real fixture opens in the same child (the harness itself works)", async () => {
    const out = await openInChild(await copyOfRepo(), 32 * MIB);
    expect(out).toMatchObject({ packages: 291 });
    expect(out.maxRssBytes).toBeLessThan(RSS_BOUND);
  });
});
