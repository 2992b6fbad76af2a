/**
 * The compose file server in-process: each path segment percent-decoded
 * exactly once, only regular files, nothing hidden, Range and HEAD kept.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
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
  // Composes as published: `odcs-<id>` a link to the tree the database chose.
  const tree = join(target, ".published", "odcs-3", "attempt-1-abcd");
  mkdirSync(join(tree, "compose"), { recursive: true });
  writeFileSync(join(tree, "compose", "x.rpm"), "chosen");
  symlinkSync(".published/odcs-3/attempt-1-abcd", join(target, "odcs-3"));
  // Links out of the target dir: absolute, and relative with `..`.
  const outside = tempDir("odcs-static-outside-");
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(outside, join(target, "odcs-4"));
  symlinkSync(`../${outside.split("/").at(-1)}`, join(target, "odcs-5"));
  // A link whose tree is gone (being replaced): a generating compose's log is still served.
  symlinkSync(".published/odcs-6/attempt-1-abcd", join(target, "odcs-6"));
  mkdirSync(join(target, ".staging", "odcs-6", "attempt-2"), { recursive: true });
  writeFileSync(join(target, ".staging", "odcs-6", "attempt-2", "pungi-stderr.log"), "six\n");
  app = new Hono();
  mountComposeFiles(app, target);
});

describe("a compose's link to its published tree", () => {
  test("is followed to the tree it points at, inside the target dir", async () => {
    expect(await get("/composes/odcs-3/compose/x.rpm")).toMatchObject({
      status: 200,
      text: "chosen",
    });
    expect(await get("/composes/odcs-6/pungi-stderr.log")).toMatchObject({
      status: 200,
      text: "six\n",
    });
  });

  test.each([
    "/composes/.published/odcs-3/attempt-1-abcd/compose/x.rpm",
    "/composes/%2Epublished/odcs-3/attempt-1-abcd/compose/x.rpm",
    "/composes/odcs-4/secret.txt",
    "/composes/odcs-5/secret.txt",
    "/composes/odcs-6/compose/x.rpm",
  ])("%s is a 404 (hidden, or out of the target dir, or gone)", async (path) => {
    expect((await get(path)).status).toBe(404);
  });
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
