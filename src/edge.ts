import { createClient } from "@libsql/client/web";
import { createApp } from "./api/app.ts";
import { silentLogger } from "./api/deps.ts";
import { loadConfig } from "./config.ts";
import { createDb } from "./db/client.ts";
import { noauthAuthenticator } from "./domain/identity.ts";

/**
 * Cloudflare Workers entry: read-only status lookups (list, get, about)
 * over a remote libSQL database. Writing routes are not mounted.
 */
export default {
  fetch(request: Request, env: Record<string, string | undefined>) {
    const config = loadConfig(env);
    const client = createClient({
      url: config.ODCS_DATABASE_URL,
      ...(config.ODCS_DATABASE_AUTH_TOKEN ? { authToken: config.ODCS_DATABASE_AUTH_TOKEN } : {}),
    });
    const app = createApp(
      {
        db: createDb(client),
        clock: { now: () => new Date() },
        config,
        log: silentLogger,
        auth: noauthAuthenticator,
        version: env.ODCS_VERSION ?? "edge",
      },
      { readOnly: true },
    );
    return app.fetch(request);
  },
};
