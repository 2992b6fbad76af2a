import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import { type Deps, silentLogger } from "../../src/api/deps.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { noauthAuthenticator } from "../../src/domain/identity.ts";
import { createUploadStore } from "../../src/uploads/store.ts";
import { fakeClock } from "./clock.ts";
import { createTestDb } from "./db.ts";

/** Config for tests: defaults plus the given settings (env-style strings or native values). */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({}, { ODCS_TARGET_DIR_URL: "http://localhost/odcs", ...overrides });
}

/**
 * An in-process app over a fresh database and a fake clock. `deps` overrides
 * replace the defaults (e.g. `auth` for the openidc tests).
 */
export async function testApp(
  opts: { config?: Record<string, unknown>; deps?: Partial<Deps> } = {},
) {
  const { db, client, url } = await createTestDb();
  const clock = fakeClock();
  // A fresh upload dir per app (made by the first upload), shared with workers built from this config.
  const config = testConfig({
    ODCS_UPLOAD_DIR: join(tmpdir(), `odcs-uploads-${randomUUID()}`),
    ...opts.config,
  });
  const deps: Deps = {
    db,
    clock,
    config,
    log: silentLogger,
    auth: noauthAuthenticator,
    version: "test",
    uploads: createUploadStore(config.ODCS_UPLOAD_DIR),
    ...opts.deps,
  };
  const app = createApp(deps);
  const request = (path: string, init?: RequestInit) => app.request(path, init);
  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "Content-Type": "application/json", ...headers },
    });
  return { app, deps, clock, db, client, dbUrl: url, request, postJson };
}
