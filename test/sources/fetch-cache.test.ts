/**
 * URL fetching (retryable vs not, no redirects) against a real local HTTP
 * server, and the repodata cache (revalidated by repomd checksum, one parse
 * for concurrent loads, failures not cached, LRU budget).
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { estimateRepodataBytes } from "../../src/rpm/record-size.ts";
import { type ReadFile, type Repodata, readRepodata } from "../../src/rpm/repodata-read.ts";
import { ComposeError } from "../../src/sources/errors.ts";
import { fetchBytes, fetchOk } from "../../src/sources/fetch.ts";
import { RepodataCache } from "../../src/sources/repodata-cache.ts";
import { generateCorpus } from "../helpers/corpus.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";

let url: string;
const server = createServer((req, res) => {
  const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? "")?.[1] ?? 200);
  if (req.url === "/redirect") res.writeHead(302, { location: "/status/200" }).end();
  else res.writeHead(status).end(status === 200 ? "hello" : "");
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const signal = new AbortController().signal;
async function failure(p: Promise<unknown>): Promise<ComposeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ComposeError);
  return err as ComposeError;
}

describe("fetch", () => {
  test("200 gives the bytes", async () => {
    expect(
      new TextDecoder().decode(await fetchBytes(`${url}/status/200`, signal, 5000, 1024)),
    ).toBe("hello");
  });
  test("5xx is retryable, 4xx is not, and the reason names the URL and status", async () => {
    const e503 = await failure(fetchOk(`${url}/status/503`, signal, 5000));
    expect(e503.retryable).toBe(true);
    expect(e503.message).toBe(`fetching ${url}/status/503 answered HTTP 503`);
    const e404 = await failure(fetchOk(`${url}/status/404`, signal, 5000));
    expect(e404.retryable).toBe(false);
  });
  test("redirects are refused; a refused connection is retryable", async () => {
    expect((await failure(fetchOk(`${url}/redirect`, signal, 5000))).message).toMatch(
      /^fetching .*\/redirect failed/,
    );
    const closed = await failure(fetchOk("http://127.0.0.1:1/x", signal, 5000));
    expect(closed.retryable).toBe(true);
  });
});

describe("RepodataCache", () => {
  /** A parsed repository of `n` generated packages. */
  const md = (n: number): Promise<Repodata> => {
    const c = generateCorpus({ packages: n, seed: n });
    const files: Record<string, string> = {
      "repodata/repomd.xml": c.repomdXml,
      "repodata/primary.xml": c.primaryXml,
    };
    return readRepodata(async (p) => new TextEncoder().encode(files[p] ?? ""));
  };
  const bytes = (s: string) => new TextEncoder().encode(s);

  test("same repomd: one load; changed repomd: loaded again", async () => {
    const cache = new RepodataCache(1 << 30);
    let loads = 0;
    const load = async () => {
      loads++;
      return md(1);
    };
    const [a, b] = await Promise.all([
      cache.get("r", bytes("v1"), load),
      cache.get("r", bytes("v1"), load),
    ]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    await cache.get("r", bytes("v2"), load);
    expect(loads).toBe(2);
  });

  test("origins with the same repomd share one parse; a changed repomd drops the old one", async () => {
    const cache = new RepodataCache(1 << 30);
    let loads = 0;
    const load = async () => {
      loads++;
      return md(2);
    };
    const viaPath = await cache.get("/srv/repo", bytes("v1"), load);
    expect(await cache.get("http://mirror/repo/", bytes("v1"), load)).toBe(viaPath);
    expect(loads).toBe(1);
    await cache.get("/srv/repo", bytes("v2"), load);
    expect(cache.size).toBe(2); // the mirror still has v1
    await cache.get("http://mirror/repo/", bytes("v2"), load);
    expect(cache.size).toBe(1);
    expect(loads).toBe(2);
  });

  test("a failed load is not cached", async () => {
    const cache = new RepodataCache(1 << 30);
    await expect(
      cache.get("r", bytes("v1"), () => Promise.reject(new Error("broken"))),
    ).rejects.toThrow("broken");
    expect(cache.size).toBe(0);
    expect((await cache.get("r", bytes("v1"), async () => md(2))).packages).toHaveLength(2);
  });

  test("the least recently used entries go past the budget", async () => {
    const one = await md(20);
    const size = estimateRepodataBytes(one);
    expect(size).toBeGreaterThan(20 * 1000);
    const cache = new RepodataCache(3 * size + size / 2); // room for three
    for (const o of ["a", "b", "c"]) await cache.get(o, bytes(o), async () => one);
    await cache.get("a", bytes("a"), async () => one); // a is now the most recent
    await cache.get("d", bytes("d"), async () => one);
    let reloaded = "";
    for (const o of ["a", "b"])
      await cache.get(o, bytes(o), async () => {
        reloaded += o;
        return one;
      });
    expect(reloaded).toBe("b");
  });

  test("an entry larger than the whole budget is handed out but not kept", async () => {
    const one = await md(20);
    const cache = new RepodataCache(estimateRepodataBytes(one) / 2);
    let loads = 0;
    const load = async () => {
      loads++;
      return one;
    };
    expect(await cache.get("big", bytes("big"), load)).toBe(one);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(cache.origins).toBe(0);
    await cache.get("big", bytes("big"), load);
    expect(loads).toBe(2);
  });

  test("after every load the entries held add up to at most the budget", async () => {
    const sizes = [5, 40, 12, 60, 3, 25, 80, 8];
    const repos = await Promise.all(sizes.map((n) => md(n)));
    const budget = estimateRepodataBytes(repos[3] as Repodata) * 1.5;
    const cache = new RepodataCache(budget);
    let held = 0;
    for (let round = 0; round < 2; round++) {
      for (const [i, r] of repos.entries()) {
        await cache.get(`origin-${round}-${i}`, bytes(`v${i}`), async () => r);
        expect(cache.bytes).toBeLessThanOrEqual(budget);
        held = Math.max(held, cache.bytes);
      }
    }
    expect(held).toBeGreaterThan(budget / 2); // it does keep what fits
    // Origins whose entry went are forgotten: no more than one per load still held.
    expect(cache.origins).toBeLessThanOrEqual(2 * cache.size);
  });

  test("a failed load forgets its origin", async () => {
    const cache = new RepodataCache(1 << 30);
    for (let i = 0; i < 5; i++)
      await cache
        .get(`bad-${i}`, bytes(`b${i}`), () => Promise.reject(new Error("x")))
        .catch(() => {});
    expect(cache.origins).toBe(0);
  });

  test("the estimate follows the records: file lists and changelogs count", async () => {
    const tizen = join(FIXTURES_DIR, "large-repodata/tizen-2.4-samsung-serranove-armv7l");
    const read: ReadFile = (p) => readFile(join(tizen, p));
    const primary = estimateRepodataBytes(await readRepodata(read));
    const full = estimateRepodataBytes(await readRepodata(read, { filelists: true, other: true }));
    expect(primary).toBeGreaterThan(592 * 1000);
    expect(full).toBeGreaterThan(primary * 1.5);
  });
});
