/**
 * The test MBS on the wire (plain fetch): filters, states, ordering with
 * version as an integer, verbose and short item shapes, pagination meta,
 * base module filters, MBS's 400s, and injected failures.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type MbsServer, platformBr, startMbs } from "./mbs-server.ts";
import { modulemdV2 } from "./modulemd.ts";

let mbs: MbsServer;

const add = (name: string, stream: string, version: string, context: string, over = {}) =>
  mbs.add({
    name,
    stream,
    version,
    context,
    modulemd: modulemdV2({ name, stream, version, context }),
    ...over,
  });

beforeAll(async () => {
  mbs = await startMbs();
  add("m", "1", "9", "aaaaaaaa");
  add("m", "1", "10", "aaaaaaaa", { baseModuleBuildrequires: [platformBr("el8.9.0", 80900)] });
  add("m", "1", "10", "bbbbbbbb", {
    state: 3,
    baseModuleBuildrequires: [platformBr("el9.2.0", 90200)],
  });
  add("m", "2", "11", "aaaaaaaa", { state: 4 });
  add("m", "1", "12", "cccccccc", { scratch: true });
  add("other", "1", "1", "dddddddd");
});
afterAll(() => mbs?.close());

type Page = {
  items: Record<string, unknown>[];
  meta: Record<string, unknown>;
};
async function get(
  query: string,
): Promise<{ status: number; body: Page & Record<string, unknown> }> {
  const res = await fetch(`${mbs.url}/1/module-builds/?${query}`);
  return { status: res.status, body: (await res.json()) as Page & Record<string, unknown> };
}
const nsvcs = (p: Page) => p.items.map((i) => `${i.name}:${i.stream}:${i.version}:${i.context}`);

describe("test MBS: module-builds", () => {
  test("nsvc is split into equality filters; state repeats for OR; scratch builds are left out", async () => {
    expect(nsvcs((await get("nsvc=m:1&state=5&order_desc_by=version")).body)).toEqual([
      "m:1:10:aaaaaaaa",
      "m:1:9:aaaaaaaa",
    ]);
    expect(nsvcs((await get("nsvc=m:1:10&state=3&state=5&order_desc_by=version")).body)).toEqual([
      "m:1:10:bbbbbbbb",
      "m:1:10:aaaaaaaa",
    ]);
    expect(nsvcs((await get("nsvc=m:1:10:bbbbbbbb&state=ready")).body)).toEqual([]);
    expect(nsvcs((await get("nsvc=m:1:10:bbbbbbbb&state=done")).body)).toEqual(["m:1:10:bbbbbbbb"]);
    expect(nsvcs((await get("name=m&stream=2")).body)).toEqual(["m:2:11:aaaaaaaa"]);
    expect(nsvcs((await get("name=m&scratch=true&order_desc_by=version")).body)[0]).toBe(
      "m:1:12:cccccccc",
    );
  });

  test("version orders as an integer (10 after 9); order_by ascending", async () => {
    expect(nsvcs((await get("name=m&stream=1&state=5&order_by=version")).body)).toEqual([
      "m:1:9:aaaaaaaa",
      "m:1:10:aaaaaaaa",
    ]);
  });

  test("verbose adds modulemd and base_module_buildrequires; the short shape has neither", async () => {
    const short = (await get("nsvc=m:1:10:aaaaaaaa")).body.items[0] ?? {};
    expect(short).not.toHaveProperty("modulemd");
    expect(short).toMatchObject({
      name: "m",
      stream: "1",
      version: "10",
      context: "aaaaaaaa",
      state: 5,
      state_name: "ready",
      koji_tag: "module-m-1-10-aaaaaaaa",
    });
    const verbose = (await get("nsvc=m:1:10:aaaaaaaa&verbose=true")).body.items[0] ?? {};
    expect(verbose.modulemd).toBe(
      modulemdV2({ name: "m", stream: "1", version: "10", context: "aaaaaaaa" }),
    );
    expect(verbose.base_module_buildrequires).toEqual([
      {
        name: "platform",
        stream: "el8.9.0",
        stream_version: 80900,
        version: "2",
        context: "00000000",
      },
    ]);
  });

  test("base module filters: name, stream, stream_version bounds", async () => {
    expect(
      nsvcs(
        (
          await get(
            "name=m&state=3&state=5&base_module_br_name=platform&base_module_br_stream_version_lte=90000&base_module_br_stream_version_gte=80000",
          )
        ).body,
      ),
    ).toEqual(["m:1:10:aaaaaaaa"]);
    expect(nsvcs((await get("name=m&state=3&base_module_br_stream=el9.2.0")).body)).toEqual([
      "m:1:10:bbbbbbbb",
    ]);
  });

  test("pagination: meta with total, pages and links; a page past the end is empty", async () => {
    const { body } = await get(
      "name=m&state=5&state=3&state=4&per_page=2&page=2&order_desc_by=version",
    );
    expect(nsvcs(body)).toEqual(["m:1:10:aaaaaaaa", "m:1:9:aaaaaaaa"]);
    // Scratch builds are not counted.
    expect(body.meta).toMatchObject({ page: 2, pages: 2, per_page: 2, total: 4, next: null });
    expect(String(body.meta.prev)).toMatch(/[?&]page=1(&|$)/);
    const first = await get("name=m&state=5&state=3&state=4&per_page=2&order_desc_by=version");
    expect(nsvcs(first.body)).toEqual(["m:2:11:aaaaaaaa", "m:1:10:bbbbbbbb"]);
    expect(first.body.meta.prev).toBeNull();
    expect(String(first.body.meta.next)).toMatch(/[?&]page=2(&|$)/);
    expect((await get("name=m&per_page=2&page=9")).body.items).toEqual([]);
    expect((await get("name=other")).body.meta).toMatchObject({ per_page: 10, page: 1, total: 1 });
  });

  test("bad parameters: 400 with MBS's JSON error body; unknown paths 404", async () => {
    expect(await get("state=bogus")).toEqual({
      status: 400,
      body: { status: 400, error: "Bad Request", message: "An invalid state was supplied: bogus" },
    });
    expect((await get("order_desc_by=nonsense")).status).toBe(400);
    expect((await get("base_module_br_stream_version_lte=x")).status).toBe(400);
    expect((await fetch(`${mbs.url}/1/nothing/`)).status).toBe(404);
    const one = await fetch(`${mbs.url}/1/module-builds/1?verbose=true`);
    expect(((await one.json()) as Record<string, unknown>).modulemd).toEqual(expect.any(String));
  });

  test("failNext: 500, 503, not JSON, reset; requests are recorded", async () => {
    mbs.failNext(1, "http500");
    mbs.failNext(1, "http503");
    mbs.failNext(1, "notjson");
    expect((await fetch(`${mbs.url}/1/module-builds/`)).status).toBe(500);
    expect((await fetch(`${mbs.url}/1/module-builds/`)).status).toBe(503);
    expect(await (await fetch(`${mbs.url}/1/module-builds/`)).text()).toBe(
      "<html>maintenance</html>",
    );
    mbs.failNext(1, "reset");
    await expect(fetch(`${mbs.url}/1/module-builds/`)).rejects.toThrow();
    const before = mbs.requests.length;
    await get("nsvc=m:1&state=3&state=5");
    expect(mbs.requests.slice(before)).toEqual([
      {
        path: "/module-build-service/1/module-builds/",
        query: [
          ["nsvc", "m:1"],
          ["state", "3"],
          ["state", "5"],
        ],
      },
    ]);
  });
});
