import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OPENAPI_CONFIG, renderOpenApiYaml } from "./api/openapi.ts";

/**
 * `npm run openapi`: regenerate the committed openapi.yaml from the routes.
 * Nothing comes from the environment, so every checkout writes the same file.
 */
const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
writeFileSync(join(root, "openapi.yaml"), renderOpenApiYaml(pkg.version, OPENAPI_CONFIG));
console.log(`wrote openapi.yaml (version ${pkg.version})`);
