/**
 * Which setting a compose's "no space left" reason names (worker/disk-full.ts),
 * on real small filesystems: the directory holding the path the error names,
 * else the directories whose disk is full, with the settings sharing that disk.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComposeError } from "../../src/sources/errors.ts";
import { diskFullMessage, fullDirSettings, isDiskFull } from "../../src/worker/disk-full.ts";
import { tempDir } from "../helpers/db.ts";
import { mountTmpfs, type SmallDisk } from "../helpers/tmpfs.ts";

const enospc = (path?: string) =>
  Object.assign(
    new Error(`ENOSPC: no space left on device, ${path ? `open '${path}'` : "write"}`),
    {
      code: "ENOSPC",
      ...(path ? { path } : {}),
    },
  );

let a: SmallDisk;
let b: SmallDisk;
beforeAll(() => {
  a = mountTmpfs(1024 * 1024);
  b = mountTmpfs(1024 * 1024);
});
afterAll(() => {
  a.unmount();
  b.unmount();
});

describe("fullDirSettings", () => {
  it("names the setting holding the path the error names, and those sharing its disk", () => {
    const target = tempDir("odcs-t-");
    const config = {
      ODCS_TARGET_DIR: target,
      ODCS_CACHE_DIR: join(a.dir, "cache"),
      ODCS_UPLOAD_DIR: join(a.dir, "uploads"),
    };
    for (const d of Object.values(config)) mkdirSync(d, { recursive: true });
    const err = new ComposeError(
      `downloading http://koji/x.rpm failed: ENOSPC: no space left on device, open '${config.ODCS_CACHE_DIR}/1/2.rpm.tmp'`,
      { cause: enospc(`${config.ODCS_CACHE_DIR}/1/2.rpm.tmp`) },
    );
    expect(isDiskFull(err)).toBe(true);
    expect(fullDirSettings(err, config)).toEqual(["ODCS_CACHE_DIR", "ODCS_UPLOAD_DIR"]);
    expect(fullDirSettings(enospc(join(target, "odcs-1", "x")), config)).toEqual([
      "ODCS_TARGET_DIR",
    ]);
    // A copy from the cache into a compose that fails: the compose's side is full.
    const from = `${config.ODCS_CACHE_DIR}/003/3.-.rpm`;
    const to = join(target, ".staging/odcs-3/attempt-1/x.rpm");
    const copy = Object.assign(
      new Error(`ENOSPC: no space left on device, copyfile '${from}' -> '${to}'`),
      { code: "ENOSPC", path: from, dest: to },
    );
    expect(fullDirSettings(copy, config)).toEqual(["ODCS_TARGET_DIR"]);
    expect(fullDirSettings(new Error(copy.message), config)).toEqual(["ODCS_TARGET_DIR"]);
  });

  it("without a path, names the settings whose disk is full; with none full, ODCS_TARGET_DIR", () => {
    const config = {
      ODCS_TARGET_DIR: join(b.dir, "composes"),
      ODCS_CACHE_DIR: join(a.dir, "cache2"),
      ODCS_UPLOAD_DIR: tempDir("odcs-u-"),
    };
    for (const d of Object.values(config)) mkdirSync(d, { recursive: true });
    expect(fullDirSettings(enospc(), config)).toEqual(["ODCS_TARGET_DIR"]);
    a.fill();
    try {
      expect(fullDirSettings(enospc(), config)).toEqual(["ODCS_CACHE_DIR"]);
      b.fill();
      expect(fullDirSettings(enospc(), config)).toEqual(["ODCS_TARGET_DIR", "ODCS_CACHE_DIR"]);
    } finally {
      a.free();
      b.free();
    }
  });
});

describe("diskFullMessage", () => {
  it("says no space first, and where", () => {
    expect(diskFullMessage("ENOSPC: no space left on device, write", ["ODCS_CACHE_DIR"])).toBe(
      "no space left on device (the disk of ODCS_CACHE_DIR is full): ENOSPC: no space left on device, write",
    );
    expect(diskFullMessage("no space left on device placing x86_64/a.rpm: ENOSPC", [])).toBe(
      "no space left on device (the disk of ODCS_TARGET_DIR is full) placing x86_64/a.rpm: ENOSPC",
    );
    expect(
      diskFullMessage("No space left on device", [
        "ODCS_TARGET_DIR",
        "ODCS_CACHE_DIR",
        "ODCS_UPLOAD_DIR",
      ]),
    ).toBe(
      "No space left on device (the disk of ODCS_TARGET_DIR, ODCS_CACHE_DIR and ODCS_UPLOAD_DIR is full)",
    );
  });
});
