/**
 * The compose file server in-process: each path segment percent-decoded
 * exactly once, only regular files, nothing hidden, Range and HEAD kept.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { beforeAll, describe, expect, test } from "vitest";
import { fileSegments, mountComposeFiles } from "../../src/node/static.ts";
import { tempDir } from "../helpers/db.ts";

let app: Hono;
let target: string;

beforeAll(() => {
  target = tempDir("odcs-static-");
  mkdirSync(join(target, "odcs-1", "sub"), { recursive: true });
  writeFileSync(join(target, "odcs-1", "a+b.txt"), "plus");
  writeFileSync(join(target, "odcs-1", "a b.txt"), "space");
  writeFileSync(join(target, "odcs-1", "a%2Bb.txt"), "percent");
  writeFileSync(join(target, "odcs-1", "sub", "x^y~z_1.rpm"), "0123456789");
  mkdirSync(join(target, ".staging", "odcs-2", "attempt-1"), { recursive: true });
  writeFileSync(join(target, ".staging", "odcs-2", "attempt-1", "pungi-stderr.log"), "log line\n");
  app = new Hono();
  mountComposeFiles(app, target);
});

const get = async (path: string, init?: RequestInit) => {
  const res = await app.request(path, init);
  return { status: res.status, text: await res.text(), res };
};

describe("percent-decoding, exactly once", () => {
  test.each([
    ["/composes/odcs-1/a%2Bb.txt", "plus"],
    ["/composes/odcs-1/a+b.txt", "plus"],
    ["/composes/odcs-1/a%20b.txt", "space"],
    ["/composes/odcs-1/a%252Bb.txt", "percent"],
    ["/composes/odcs-1/sub/x%5Ey%7Ez%5F1.rpm", "0123456789"],
    ["/composes/odcs-1/sub/x^y~z_1.rpm", "0123456789"],
    ["/composes/odcs-%32/pungi-stderr.log", "log line\n"],
  ])("%s serves %j", async (path, body) => {
    expect(await get(path)).toMatchObject({ status: 200, text: body });
  });

  test("HEAD and Range answer as before", async () => {
    const head = await app.request("/composes/odcs-1/sub/x%5Ey~z_1.rpm", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
    const part = await get("/composes/odcs-1/sub/x%5Ey~z_1.rpm", {
      headers: { Range: "bytes=2-4" },
    });
    expect(part).toMatchObject({ status: 206, text: "234" });
    expect(part.res.headers.get("content-range")).toBe("bytes 2-4/10");
  });
});

describe("refused", () => {
  test.each([
    "/composes/odcs-1",
    "/composes/odcs-1/",
    "/composes/odcs-1/sub",
    "/composes/odcs-1/missing.rpm",
    "/composes/.staging/odcs-2/attempt-1/pungi-stderr.log",
    "/composes/%2Estaging/odcs-2/attempt-1/pungi-stderr.log",
    "/composes/odcs-1/sub%2Fx%5Ey~z_1.rpm",
    "/composes/odcs-1//a+b.txt",
    "/composes/odcs-1/a+b.txt%00",
    "/composes/odcs-1/%E0%A4%A.txt",
  ])("%s is a 404", async (path) => {
    expect((await get(path)).status).toBe(404);
  });

  test.each([
    ["a/%2e%2e/b", undefined],
    ["a/.hidden", undefined],
    ["a/b%2Fc", undefined],
    ["a/b%5Cc", undefined],
    ["a/b%00", undefined],
    ["a//b", undefined],
    ["a/%25zz", ["a", "%zz"]],
    ["/a/b+c", ["a", "b+c"]],
  ])("fileSegments(%j) = %j", (path, segments) => {
    expect(fileSegments(path)).toEqual(segments);
  });
});
