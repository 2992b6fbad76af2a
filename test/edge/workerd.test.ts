/**
 * The edge app in the real Workers runtime: the wrangler bundle under
 * workerd (Miniflare), its database a libSQL server over the network (the
 * Hrana test server). Its answers are compared with the Node service's
 * (createApp over the same server).
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { composes } from "../../src/db/schema.ts";
import { noauthAuthenticator } from "../../src/domain/identity.ts";
import { fakeClock } from "../helpers/clock.ts";
import { type EdgeWorker, type RemoteDb, startEdgeWorker, startRemoteDb } from "../helpers/edge.ts";
import { givenCompose, T0 } from "../helpers/given.ts";
import { testConfig } from "../helpers/test-app.ts";

const SETTINGS = {
  ODCS_TARGET_DIR_URL: "https://composes.example.com/composes",
  ODCS_ORIGIN_URL: "https://odcs.example.com",
};
let remote: RemoteDb;
let edge: EdgeWorker;
let node: ReturnType<typeof createApp>;

beforeAll(async () => {
  remote = await startRemoteDb();
  edge = await startEdgeWorker({ ODCS_DATABASE_URL: remote.server.url, ...SETTINGS });
  node = createApp({
    db: remote.db,
    clock: fakeClock(),
    config: testConfig(SETTINGS),
    log: silentLogger,
    auth: noauthAuthenticator,
    version: "edge",
  });
}, 60_000);
afterAll(async () => {
  await edge?.dispose();
  await remote?.close();
});

const nodeGet = async (path: string) => {
  const res = await node.request(`${edge.url}${path}`);
  return { status: res.status, body: await res.json() };
};
const edgeGet = async (path: string, init?: RequestInit) => {
  const res = await edge.fetch(path, init);
  return { status: res.status, body: await res.json(), headers: res.headers };
};

describe("under workerd over a remote libSQL server", () => {
  it("answers compose get/list and about exactly as the Node service does", async () => {
    const done = await givenCompose(remote.db, {
      state: 2,
      timeDone: T0 + 60_000,
      packages: "bash wget",
      source: "/srv/repos/fedora",
    });
    const failed = await givenCompose(remote.db, {
      state: 4,
      stateReason: "Depsolving failed: no bash",
    });
    await givenCompose(remote.db, { state: 1 });
    for (const path of [
      `/api/1/composes/${done.id}`,
      `/api/1/composes/${failed.id}/`,
      "/api/1/composes/",
      "/api/1/composes/?state=done",
      "/api/1/composes/?per_page=1&page=2&order_by=id",
      "/api/1/composes/999",
      "/api/1/composes/?state=nonsense",
      "/api/1/about/",
    ]) {
      const [fromEdge, fromNode] = [await edgeGet(path), await nodeGet(path)];
      expect(fromEdge.status, path).toBe(fromNode.status);
      expect(fromEdge.body, path).toEqual(fromNode.body);
    }
    expect((await edgeGet(`/api/1/composes/${done.id}`)).body).toMatchObject({
      id: done.id,
      state_name: "done",
      result_repofile: `https://composes.example.com/composes/odcs-${done.id}/compose/Temporary/odcs-${done.id}.repo`,
    });
  });

  it("serves openapi.json and the docs page", async () => {
    const doc = await edgeGet("/api/1/openapi.json");
    expect(doc.status).toBe(200);
    const paths = (doc.body as { paths: Record<string, Record<string, unknown>> }).paths;
    expect(Object.keys(paths["/api/1/composes/{id}"] ?? {})).toEqual(["get"]);
    const docs = await edge.fetch("/api/1/docs");
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/api/1/openapi.json");
  });

  it("refuses every write with a 405 naming the origin, and writes nothing", async () => {
    const before = await remote.db.$count(composes);
    for (const [method, path] of [
      ["POST", "/api/1/composes/"],
      ["PATCH", "/api/1/composes/1"],
      ["DELETE", "/api/1/composes/1"],
    ] as const) {
      const res = await edgeGet(path, {
        method,
        headers: { "Content-Type": "application/json" },
        body:
          method === "DELETE" ? null : JSON.stringify({ source: { type: "repo", source: "/x" } }),
      });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(res.body).toEqual({
        status: 405,
        error: "Method Not Allowed",
        message:
          "The method is not allowed for the requested URL. This server answers status lookups only; " +
          "send writes to the ODCS origin server, https://odcs.example.com.",
      });
    }
    expect(await remote.db.$count(composes)).toBe(before);
  });

  it("caches final composes (ETag, max-age, Cache API) and never unfinished ones", async () => {
    const done = await givenCompose(remote.db, { state: 2, timeDone: T0 });
    const first = await edge.fetch(`/api/1/composes/${done.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("public, max-age=60");
    expect(first.headers.get("x-edge-cache")).toBe("miss");
    const etag = first.headers.get("etag");
    // The app's own ETag (api/etag.ts), which the edge cache keeps.
    expect(etag).toMatch(/^"[0-9a-z]+"$/);
    const body = await first.json();

    // Within the TTL the Cache API answers, even after the row changed.
    await remote.db.update(composes).set({ label: "changed" }).where(eq(composes.id, done.id));
    const second = await edge.fetch(`/api/1/composes/${done.id}`);
    expect(second.headers.get("x-edge-cache")).toBe("hit");
    expect(second.headers.get("etag")).toBe(etag);
    expect(await second.json()).toEqual(body);
    const revalidated = await edge.fetch(`/api/1/composes/${done.id}`, {
      headers: { "If-None-Match": etag ?? "" },
    });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("etag")).toBe(etag);

    const generating = await givenCompose(remote.db, { state: 1 });
    const g1 = await edge.fetch(`/api/1/composes/${generating.id}`);
    expect(g1.headers.get("cache-control")).toBe("no-store");
    // The app's ETag lets a poller revalidate (304), but the edge never stores it.
    expect(g1.headers.get("etag")).toMatch(/^"[0-9a-z]+"$/);
    expect(((await g1.json()) as { state_name: string }).state_name).toBe("generating");
    await remote.db
      .update(composes)
      .set({ state: 2, timeDone: T0 })
      .where(eq(composes.id, generating.id));
    const g2 = await edge.fetch(`/api/1/composes/${generating.id}`);
    expect(((await g2.json()) as { state_name: string }).state_name).toBe("done");
    expect(g2.headers.get("x-edge-cache")).toBe("miss");
  });

  it("answers bad settings with a 500 naming them", async () => {
    const bad = await startEdgeWorker({
      ODCS_DATABASE_URL: remote.server.url,
      ODCS_TARGET_DIR_URL: "ftp://x",
    });
    try {
      const res = await bad.fetch("/api/1/composes/");
      expect(res.status).toBe(500);
      expect(((await res.json()) as { message: string }).message).toMatch(
        /settings are invalid: invalid setting ODCS_TARGET_DIR_URL/,
      );
    } finally {
      await bad.dispose();
    }
  });
});
