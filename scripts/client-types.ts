import { readFile } from "node:fs/promises";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";

export const ROOT = join(import.meta.dirname, "..");
export const CLIENT_TYPES_FILE = join(ROOT, "src/client/openapi.gen.ts");

const HEADER =
  "// Generated from openapi.yaml by openapi-typescript (`npm run client`); do not edit.\n" +
  "// A test fails when this file and openapi.yaml disagree.\n\n";

/**
 * The client's types, generated from the committed openapi.yaml: `paths`,
 * `components` and `operations` for openapi-fetch. Deterministic: only the
 * document goes in.
 */
export async function renderClientTypes(): Promise<string> {
  const yaml = await readFile(join(ROOT, "openapi.yaml"), "utf8");
  const ast = await openapiTS(yaml, { exportType: true, alphabetize: false });
  return HEADER + astToString(ast);
}
