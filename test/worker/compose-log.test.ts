import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ComposeLog } from "../../src/worker/compose-log.ts";
import { tempDir } from "../helpers/db.ts";

const clock = () => new Date("2026-11-21T08:00:00Z");

describe("ComposeLog", () => {
  test("keeps the lines written before its directory exists, in order", async () => {
    const dir = join(tempDir(), "attempt-1");
    let made: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      made = resolve;
    });
    const log = new ComposeLog(join(dir, "pungi-stderr.log"), clock, ready);
    log.line("one");
    log.line("two");
    await mkdir(dir);
    made();
    log.line("three");
    await log.close();
    expect(await readFile(join(dir, "pungi-stderr.log"), "utf8")).toBe(
      [
        "2026-11-21T08:00:00.000Z one",
        "2026-11-21T08:00:00.000Z two",
        "2026-11-21T08:00:00.000Z three",
        "",
      ].join("\n"),
    );
  });

  test("when the directory cannot be made, the lines are dropped and close still settles", async () => {
    const path = join(tempDir(), "missing", "pungi-stderr.log");
    const log = new ComposeLog(path, clock, Promise.reject(new Error("no space")));
    log.line("lost");
    await log.close();
    expect(existsSync(path)).toBe(false);
  });
});
