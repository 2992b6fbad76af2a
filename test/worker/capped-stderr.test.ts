/**
 * A child process that writes without end to stderr: the worker keeps the
 * start and the end of it (at most `MAX_CAPTURED_CHARS`), for createrepo_c
 * and for the zstd compressor, real processes both.
 */
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, test } from "vitest";
import { CappedText, MAX_CAPTURED_CHARS } from "../../src/worker/tools/capped-text.ts";
import { createCompressor } from "../../src/worker/tools/compress.ts";
import { CreaterepoError, runCreaterepo } from "../../src/worker/tools/createrepo.ts";
import { tempDir } from "../helpers/db.ts";

/** A tool that reads its stdin, writes 50 MB to stderr between two marker lines, and fails. */
async function noisyTool(): Promise<string> {
  const path = join(tempDir("odcs-noisy-"), "noisy");
  await writeFile(
    path,
    [
      "#!/bin/sh",
      "cat > /dev/null",
      "echo FIRST-LINE >&2",
      "head -c 50000000 /dev/zero | tr '\\0' 'x' >&2",
      "echo >&2",
      "echo LAST-LINE >&2",
      "exit 3",
      "",
    ].join("\n"),
  );
  await chmod(path, 0o755);
  return path;
}

function expectCapped(text: string) {
  expect(text.length).toBeLessThan(MAX_CAPTURED_CHARS + 200);
  expect(text).toMatch(/^FIRST-LINE\n/);
  expect(text).toMatch(/LAST-LINE$/);
  expect(text).toMatch(/… \(\d+ characters left out\) …/);
}

describe("CappedText", () => {
  test("keeps everything while it fits, then the start and the end", () => {
    const t = new CappedText(10);
    t.append("abc");
    expect(t.toString()).toBe("abc");
    t.append("defgh");
    expect(t.toString()).toBe("abcdefgh");
    for (const c of "ijklmnopqrstuvwxyz") t.append(c);
    expect(t.toString()).toBe("abcde\n… (16 characters left out) …\nvwxyz");
    expect(t.dropped).toBe(16);
  });

  test("a million chunks hold no more than the bound", () => {
    const t = new CappedText();
    for (let i = 0; i < 1_000_000; i++) t.append(`line ${i}\n`);
    const s = t.toString();
    expect(s.length).toBeLessThan(MAX_CAPTURED_CHARS + 100);
    expect(s.startsWith("line 0\nline 1\n")).toBe(true);
    expect(s.endsWith("line 999999\n")).toBe(true);
  });
});

describe("child processes' stderr is capped", () => {
  test("createrepo_c", async () => {
    const err = await runCreaterepo(tempDir("odcs-repo-"), { bin: await noisyTool() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CreaterepoError);
    const e = err as CreaterepoError;
    expect(e.exitCode).toBe(3);
    expectCapped(e.stderr.trim());
    expect(e.message.length).toBeLessThan(MAX_CAPTURED_CHARS + 400);
  });

  test("the zstd compressor", async () => {
    const out = join(tempDir("odcs-zst-"), "out.zst");
    const { createWriteStream } = await import("node:fs");
    const err = await pipeline(
      Readable.from([Buffer.from("some metadata")]),
      createCompressor("zst", { zstdBin: await noisyTool() }),
      createWriteStream(out),
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/noisy exited with 3: FIRST-LINE\n/);
    expectCapped(message.slice(message.indexOf("FIRST-LINE")));
  });
});
