import { stringify } from "yaml";
import { type Config, loadConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { noauthAuthenticator } from "../domain/identity.ts";
import { createApp, openApiHead } from "./app.ts";
import type { Deps } from "./deps.ts";
import { silentLogger } from "./deps.ts";

/**
 * The fixed configuration the published document is rendered with: the
 * defaults, with a neutral target URL (nothing read from the environment).
 * The routes do not depend on it; only the inert app needs one.
 */
export const OPENAPI_CONFIG: Config = loadConfig(
  {},
  { ODCS_TARGET_DIR_URL: "http://localhost/odcs" },
);

/**
 * The OpenAPI 3.1 document of the routes as YAML, deterministic: built from
 * an app with inert dependencies (no database is touched while rendering),
 * nothing read from the environment.
 */
export function renderOpenApiYaml(version: string, config: Config): string {
  const inert: Deps = {
    db: undefined as unknown as Db,
    clock: { now: () => new Date(0) },
    config,
    log: silentLogger,
    auth: noauthAuthenticator,
    version,
  };
  const doc = createApp(inert).getOpenAPI31Document(openApiHead(version));
  return stringify(doc, { sortMapEntries: false, lineWidth: 0, aliasDuplicateObjects: false });
}
