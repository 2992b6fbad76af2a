import { createClient } from "@libsql/client/web";
import { createReadOnlyApp } from "../api/app-core.ts";
import { type Clock, type Logger, systemClock } from "../api/deps.ts";
import { errorBody } from "../api/errors.ts";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { createDb } from "../db/client.ts";
import { noauthAuthenticator } from "../domain/identity.ts";
import { type CacheLike, withFinalComposeCaching } from "./cache.ts";

/** What the Workers runtime passes beside the request (only `waitUntil` is used). */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

export type Handler = (request: Request, ctx?: ExecutionContextLike) => Promise<Response>;

/**
 * Logs one JSON line per message on the console, which is what Workers,
 * Deno and Bun all collect.
 */
const consoleLogger: Logger = {
  debug: () => {},
  info: (msg, fields) => console.log(JSON.stringify({ level: "info", msg, ...fields })),
  warn: (msg, fields) => console.warn(JSON.stringify({ level: "warn", msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: "error", msg, ...fields })),
};

/**
 * The read-only app over a remote libSQL database (sqld / Turso, `http(s)://`
 * or `libsql://`) as a fetch handler, built once: one app and one client per
 * isolate or process, kept for every request it serves. The settings are the
 * service's own (`loadConfig`, the same zod schema), read from the Worker's
 * bindings or the process environment. Bad settings answer every request
 * with a 500 naming them, in the ODCS error shape.
 */
export function createReadOnlyHandler(
  env: Record<string, unknown>,
  opts: { cache?: CacheLike; clock?: Clock; log?: Logger } = {},
): Handler {
  const strings: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") strings[k] = v;
  let config: Config;
  try {
    config = loadConfig(strings);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const message = `The edge app's settings are invalid: ${err.message.replaceAll("\n", "; ")}`;
    return async () => Response.json(errorBody(500, message), { status: 500 });
  }
  const client = createClient({
    url: config.ODCS_DATABASE_URL,
    ...(config.ODCS_DATABASE_AUTH_TOKEN ? { authToken: config.ODCS_DATABASE_AUTH_TOKEN } : {}),
  });
  const app = createReadOnlyApp({
    db: createDb(client),
    clock: opts.clock ?? systemClock,
    config,
    log: opts.log ?? consoleLogger,
    auth: noauthAuthenticator,
    version: strings.ODCS_VERSION ?? "edge",
  });
  const serve = (request: Request) => Promise.resolve(app.fetch(request));
  // Behind a trusted proxy the answer depends on forwarded headers: not shareable.
  if (config.ODCS_TRUST_PROXY) return serve;
  return withFinalComposeCaching(serve, {
    ttlSeconds: config.ODCS_EDGE_CACHE_SECONDS,
    ...(opts.cache ? { cache: opts.cache } : {}),
  });
}
