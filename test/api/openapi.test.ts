import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createApp } from "../../src/api/app.ts";
import { OPENAPI_CONFIG, renderOpenApiYaml } from "../../src/api/openapi.ts";
import { insertUpload } from "../../src/db/uploads.ts";
import { UnauthorizedError } from "../../src/domain/errors.ts";
import type { Authenticator } from "../../src/domain/identity.ts";
import { ServerMetrics } from "../../src/metrics/registry.ts";
import { givenCompose, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const ROOT = join(import.meta.dirname, "../..");
const pkgVersion = async () =>
  (JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** Test seam: an openidc backend that only knows "no header" and "any header". */
const openidcStub: Authenticator = {
  backend: "openidc",
  authenticate: async (authorization) => {
    if (!authorization) throw new UnauthorizedError("Missing token passed to ODCS.");
    return { username: "alice", groups: [], scopes: [] };
  },
};

interface Operation {
  security?: unknown[];
}
type Doc = { paths: Record<string, Record<string, Operation>>; info: { version: string } };

describe("openapi.yaml", () => {
  it("matches the routes (run `npm run openapi`)", async () => {
    const committed = await readFile(join(ROOT, "openapi.yaml"), "utf8");
    expect(
      renderOpenApiYaml(await pkgVersion(), OPENAPI_CONFIG),
      "openapi.yaml is stale: run `npm run openapi`",
    ).toBe(committed);
  });

  it("does not depend on the configuration it is rendered with", async () => {
    const other = {
      ...OPENAPI_CONFIG,
      ODCS_TARGET_DIR_URL: "https://elsewhere.example/",
      ODCS_ARCHES: ["aarch64"],
    };
    expect(renderOpenApiYaml("1", other)).toBe(renderOpenApiYaml("1", OPENAPI_CONFIG));
  });

  it("every operation with security answers 401 without a token under openidc", async () => {
    const doc = parse(renderOpenApiYaml("1", OPENAPI_CONFIG)) as Doc;
    const t = await testApp({
      deps: { auth: openidcStub },
      config: { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" },
    });
    await givenCompose(t.db, { state: 2 });
    const upload = await insertUpload(t.db, {
      id: "3b0d6a0e-6f0e-4c8b-9a57-2f1c8f6b5a10",
      owner: "alice",
      state: "ready",
      bytes: 0,
      files: "[]",
      timeCreated: 0,
      timeToExpire: Date.parse("2030-01-01T00:00:00Z"),
    });
    // As the Node entry does: the metrics come from prom-client, outside src/api.
    const app = createApp({ ...t.deps, metrics: new ServerMetrics(t.db, () => t.clock.now()) });
    const secured: string[] = [];
    const open: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace("{id}", path.startsWith("/api/1/uploads/") ? upload.id : "1");
        const init: RequestInit = { method: method.toUpperCase() };
        if (method === "post" || method === "patch") init.body = "{}";
        const res = await app.request(url, init);
        if (res.headers.get("content-type")?.startsWith("text/event-stream"))
          await res.body?.cancel();
        if (op.security && op.security.length > 0) {
          secured.push(`${method.toUpperCase()} ${path}`);
          expect({ op: `${method} ${path}`, status: res.status, body: await res.json() }).toEqual({
            op: `${method} ${path}`,
            status: 401,
            body: odcsError(401, "Missing token passed to ODCS."),
          });
          expect(res.headers.get("www-authenticate")).toBeNull();
        } else {
          open.push(`${method.toUpperCase()} ${path}`);
          expect(res.status, `${method} ${path}`).toBe(200);
        }
      }
    }
    expect(secured.sort()).toEqual([
      "DELETE /api/1/composes/{id}",
      "DELETE /api/1/uploads/{id}",
      "PATCH /api/1/composes/{id}",
      "POST /api/1/composes",
      "POST /api/1/uploads",
    ]);
    expect(open.sort()).toEqual([
      "GET /api/1/about",
      "GET /api/1/composes",
      "GET /api/1/composes/{id}",
      "GET /api/1/composes/{id}/wait",
      "GET /api/1/events",
      "GET /api/1/metrics",
      "GET /api/1/uploads/{id}",
    ]);
    expect(await (await t.request("/api/1/composes/1")).json()).toMatchObject({
      state_name: "done",
      removed_by: null,
    });
  });

  it("the committed version is package.json's", async () => {
    const doc = parse(await readFile(join(ROOT, "openapi.yaml"), "utf8")) as Doc;
    expect(doc.info.version).toBe(await pkgVersion());
  });
});

describe("served documentation", () => {
  it("GET /api/1/openapi.json serves the document", async () => {
    const t = await testApp();
    const res = await t.request("/api/1/openapi.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(parse(renderOpenApiYaml("test", OPENAPI_CONFIG)));
  });

  it("GET /api/1/docs serves an HTML reference", async () => {
    const t = await testApp();
    const res = await t.request("/api/1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("/api/1/openapi.json");
  });
});
