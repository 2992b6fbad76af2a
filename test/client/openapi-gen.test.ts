import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { CLIENT_TYPES_FILE, ROOT, renderClientTypes } from "../../scripts/client-types.ts";

test("src/client/openapi.gen.ts is generated from openapi.yaml (run `npm run client`)", async () => {
  expect(await renderClientTypes(), "stale client types: run `npm run client`").toBe(
    await readFile(CLIENT_TYPES_FILE, "utf8"),
  );
});

test("the package's ./client entry resolves (package self-reference, as a user imports it)", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      'import("odcs-ts/client").then((m) => console.log(typeof m.createOdcsClient, typeof m.OdcsError))',
    ],
    { cwd: ROOT },
  );
  expect(stdout).toBe("function function\n");
});
