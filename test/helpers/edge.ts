/**
 * The edge build as CI and an operator make it: `wrangler deploy --dry-run
 * --outdir …` bundles src/edge.ts per wrangler.toml, and Miniflare runs that
 * bundle in the real workerd binary (both from npm). Plus a migrated
 * database behind the Hrana test server, the "remote libSQL" they talk to.
 */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type Client, createClient } from "@libsql/client";
import { Miniflare } from "miniflare";
import { createDb, type Db } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { MIGRATIONS, tempDir } from "./db.ts";
import { type HranaServer, startHranaServer } from "./hrana-server.ts";

const ROOT = join(import.meta.dirname, "../..");

export interface EdgeBundle {
  path: string;
  bytes: number;
  code: string;
  /** wrangler's own report (it prints the upload size). */
  output: string;
}

let bundled: Promise<EdgeBundle> | undefined;

/** Bundle once per test file (about 4 s). */
export function bundleEdge(): Promise<EdgeBundle> {
  bundled ??= (async () => {
    const outdir = tempDir("odcs-edge-");
    const { stdout, stderr } = await promisify(execFile)(
      "npx",
      ["wrangler", "deploy", "--dry-run", "--outdir", outdir],
      {
        cwd: ROOT,
        // No telemetry or update checks: there is no network to send them to.
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      },
    );
    const path = join(outdir, "edge.js");
    return {
      path,
      bytes: (await stat(path)).size,
      code: await readFile(path, "utf8"),
      output: stdout + stderr,
    };
  })();
  return bundled;
}

export interface EdgeWorker {
  /** Where workerd listens (`http://127.0.0.1:<port>`). */
  url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

/** The bundle under workerd with these bindings (as `[vars]` / secrets give them). */
export async function startEdgeWorker(bindings: Record<string, string>): Promise<EdgeWorker> {
  const bundle = await bundleEdge();
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle.path,
    modulesRoot: dirname(bundle.path),
    compatibilityDate: "2026-04-01",
    bindings,
  });
  const url = (await mf.ready).origin;
  return {
    url,
    // Over HTTP to workerd's own socket, as any client reaches it.
    fetch: (path, init) => fetch(`${url}${path}`, init),
    dispose: () => mf.dispose(),
  };
}

export interface RemoteDb {
  server: HranaServer;
  /** A Node client over the network, to write the rows tests read back. */
  client: Client;
  db: Db;
  close(): Promise<void>;
}

/** A migrated database served by the Hrana test server. */
export async function startRemoteDb(): Promise<RemoteDb> {
  const server = await startHranaServer({ path: join(tempDir("odcs-hrana-"), "odcs.db") });
  const client = createClient({ url: server.url });
  await migrateDatabase(client, MIGRATIONS);
  return {
    server,
    client,
    db: createDb(client),
    close: async () => {
      client.close();
      await server.close();
    },
  };
}
