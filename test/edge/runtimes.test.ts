/**
 * The read-only app under Deno and Bun (both from npm), from their tiny
 * entry files, over a libSQL server: the same answers as the Node app gives
 * for the same database, writes refused.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReadOnlyApp } from "../../src/api/app-core.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { noauthAuthenticator } from "../../src/domain/identity.ts";
import { fakeClock } from "../helpers/clock.ts";
import { type RemoteDb, startRemoteDb } from "../helpers/edge.ts";
import { givenCompose, T0 } from "../helpers/given.ts";
import { ROOT, type ServiceProcess, startService } from "../helpers/service.ts";
import { testConfig } from "../helpers/test-app.ts";

const SETTINGS = {
  ODCS_TARGET_DIR_URL: "https://composes.example.com/composes",
  ODCS_ORIGIN_URL: "https://odcs.example.com",
};
const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
const RUNTIMES = [
  ["deno", [bin("deno"), "run", "--allow-net", "--allow-env", "--allow-read", "src/deno.ts"]],
  ["bun", [bin("bun"), "src/bun.ts"]],
] as const;

let remote: RemoteDb;
let ids: number[];
beforeAll(async () => {
  remote = await startRemoteDb();
  ids = [
    (await givenCompose(remote.db, { state: 2, timeDone: T0, packages: "bash" })).id,
    (await givenCompose(remote.db, { state: 1 })).id,
  ];
});
afterAll(() => remote?.close());

describe.each(RUNTIMES)("under %s", (runtime, command) => {
  let svc: ServiceProcess;
  beforeAll(async () => {
    svc = await startService({
      command,
      env: { ODCS_DATABASE_URL: remote.server.url, ...SETTINGS },
      timeoutMs: 30_000,
    });
  }, 40_000);
  afterAll(() => svc?.kill());

  it("answers as the Node app does and refuses writes", async () => {
    expect(svc.output()).toContain(`"runtime":"${runtime}"`);
    const node = createReadOnlyApp({
      db: remote.db,
      clock: fakeClock(),
      config: testConfig(SETTINGS),
      log: silentLogger,
      auth: noauthAuthenticator,
      version: "edge",
    });
    for (const path of [
      `/api/1/composes/${ids[0]}`,
      `/api/1/composes/${ids[1]}`,
      "/api/1/composes/?order_by=id",
      "/api/1/composes/?state=bogus",
      "/api/1/composes/4242",
      "/api/1/about/",
    ]) {
      const [theirs, ours] = [
        await fetch(`${svc.url}${path}`),
        await node.request(`${svc.url}${path}`),
      ];
      expect(theirs.status, path).toBe(ours.status);
      expect(await theirs.json(), path).toEqual(await ours.json());
    }
    const done = await fetch(`${svc.url}/api/1/composes/${ids[0]}`);
    expect(done.headers.get("cache-control")).toBe("public, max-age=60");
    // The app's own ETag (api/etag.ts), which the edge cache keeps.
    expect(done.headers.get("etag")).toMatch(/^"[0-9a-z]+"$/);
    const write = await fetch(`${svc.url}/api/1/composes/`, { method: "POST", body: "{}" });
    expect(write.status).toBe(405);
    expect(((await write.json()) as { message: string }).message).toContain(
      "https://odcs.example.com",
    );
  });
});
