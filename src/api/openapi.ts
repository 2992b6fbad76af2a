import { stringify } from "yaml";
import type { Config } from "../config.ts";
import { createApp, OPENAPI_INFO } from "./app.ts";
import type { Deps } from "./deps.ts";
import { silentLogger } from "./deps.ts";
import { noauthAuthenticator } from "../domain/identity.ts";
import type { Db } from "../db/client.ts";

/**
 * The OpenAPI 3.1 document of the routes as YAML, deterministic: built from
 * an app with inert dependencies, nothing read from the environment.
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
  const doc = createApp(inert).getOpenAPI31Document({ openapi: "3.1.0", info: { ...OPENAPI_INFO, version } });
  return stringify(doc, { sortMapEntries: false, lineWidth: 0 });
}
