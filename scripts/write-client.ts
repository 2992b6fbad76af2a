import { writeFile } from "node:fs/promises";
import { relative } from "node:path";
import { CLIENT_TYPES_FILE, ROOT, renderClientTypes } from "./client-types.ts";

/** `npm run client`: regenerate the typed client's types from openapi.yaml. */
await writeFile(CLIENT_TYPES_FILE, await renderClientTypes());
console.log(`wrote ${relative(ROOT, CLIENT_TYPES_FILE)}`);
