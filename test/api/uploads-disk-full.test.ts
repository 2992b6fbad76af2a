/**
 * An upload whose disk (ODCS_UPLOAD_DIR, a small real tmpfs) fills while it
 * is being received, or is full before it starts: 507 Insufficient Storage
 * in the ODCS error shape with Retry-After, nothing of it left on disk or
 * in the database; uploads work again once space is freed.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { uploads } from "../../src/db/schema.ts";
import { LIBDNF_REPO } from "../helpers/service.ts";
import { testApp } from "../helpers/test-app.ts";
import { mountTmpfs, type SmallDisk } from "../helpers/tmpfs.ts";
import { fromFiles, multipart, type NamedBytes, tarball } from "../helpers/uploads.ts";

const rpm = (f: string) => join(LIBDNF_REPO, "x86_64", f);
let disk: SmallDisk;
let big: NamedBytes[];
let small: NamedBytes[];
beforeAll(async () => {
  disk = mountTmpfs(160 * 1024);
  // About 220 KB together: the first ones fit, a later one meets the full disk.
  big = await fromFiles(
    [
      "kernel-core-4.18.16-300.fc29.x86_64.rpm",
      "kernel-debug-core-4.18.16-300.fc29.x86_64.rpm",
      "kernel-modules-4.18.16-300.fc29.x86_64.rpm",
      "kernel-debug-modules-4.18.16-300.fc29.x86_64.rpm",
      "kernel-4.18.16-300.fc29.x86_64.rpm",
      "kernel-debug-4.18.16-300.fc29.x86_64.rpm",
      "glibc-2.28-9.fc29.x86_64.rpm",
    ].map(rpm),
  );
  small = await fromFiles([rpm("flac-1.3.2-8.fc29.x86_64.rpm")]);
  expect(big.reduce((n, f) => n + f.bytes.length, 0)).toBeGreaterThan(160 * 1024);
});
afterAll(() => disk.unmount());

const FULL = {
  status: 507,
  error: "Insufficient Storage",
  message:
    "Upload refused: the disk of ODCS_UPLOAD_DIR is full; nothing of it was kept, try again later",
};

describe("POST /api/1/uploads/ on a disk that fills", () => {
  test.each([
    ["multipart", () => ({ body: multipart(big), headers: {} })],
    [
      "tar",
      async () => ({ body: await tarball(big), headers: { "Content-Type": "application/x-tar" } }),
    ],
  ] as const)(
    "%s: the disk fills mid-upload → 507, nothing kept; then it works",
    async (_, make) => {
      const dir = join(disk.dir, `uploads-${_}`);
      const t = await testApp({ config: { ODCS_UPLOAD_DIR: dir } });
      const freeBefore = disk.available();
      const { body, headers } = await make();
      const res = await t.app.request("/api/1/uploads/", { method: "POST", body, headers });
      expect(res.status).toBe(507);
      expect(res.headers.get("retry-after")).toBe("60");
      expect(await res.json()).toEqual(FULL);
      expect(readdirSync(dir)).toEqual([]);
      expect(disk.available()).toBe(freeBefore);
      expect(await t.db.select().from(uploads)).toEqual([]);

      const ok = await t.app.request("/api/1/uploads/", { method: "POST", body: multipart(small) });
      expect(ok.status).toBe(201);
      expect(await t.db.select().from(uploads)).toHaveLength(1);
      const [id] = readdirSync(dir);
      await t.app.request(`/api/1/uploads/${id}`, { method: "DELETE" });
    },
  );

  test("a disk full before the upload starts → 507; freed → 201", async () => {
    const dir = join(disk.dir, "uploads-full");
    const t = await testApp({ config: { ODCS_UPLOAD_DIR: dir } });
    disk.fill();
    try {
      const res = await t.app.request("/api/1/uploads/", {
        method: "POST",
        body: multipart(small),
      });
      expect(res.status).toBe(507);
      expect(await res.json()).toEqual(FULL);
      expect(readdirSync(dir)).toEqual([]);
      expect(await t.db.select().from(uploads)).toEqual([]);
    } finally {
      disk.free();
    }
    const ok = await t.app.request("/api/1/uploads/", { method: "POST", body: multipart(small) });
    expect(ok.status).toBe(201);
  });
});
