import { expect, it } from "vitest";
import { bundleEdge } from "../helpers/edge.ts";

/**
 * What wrangler actually uploads, not only what src/edge.ts imports: no
 * Node builtins, none of the writing path, the web libSQL client.
 */
it("wrangler bundles the read-only app without Node or write-path code", async () => {
  const bundle = await bundleEdge();
  console.log(`edge bundle: ${(bundle.bytes / 1024).toFixed(1)} KiB (${bundle.path})`);
  expect(bundle.output).toMatch(/Total Upload: [\d.]+ KiB \/ gzip: [\d.]+ KiB/);
  const { code } = bundle;
  expect(
    code.match(
      /(?:from|import|require)\s*\(?\s*["'](?:node:)?(?:fs|path|child_process|os|net|http|crypto|stream|worker_threads)(?:\/[\w/]+)?["']/g,
    ),
  ).toBeNull();
  expect(code).not.toMatch(/["']node:[\w/]+["']/);
  // esbuild keeps one `// path` comment per module it bundled.
  const modules = [...code.matchAll(/^\/\/ (src\/[\w./-]+)$/gm)].map((m) => m[1]);
  expect(modules).toEqual(
    expect.arrayContaining(["src/edge.ts", "src/api/composes.ts", "src/db/composes.ts"]),
  );
  for (const writer of [
    "src/api/app.ts",
    "src/api/composes-write.ts",
    "src/api/compose-wait.ts",
    "src/db/jobs.ts",
    "src/domain/request-schemas.ts",
    "src/domain/compose-request.ts",
    "src/domain/renew.ts",
    "src/sources/index.ts",
    "src/worker/loop.ts",
  ]) {
    expect(modules, writer).not.toContain(writer);
  }
  for (const name of [
    "createComposeWithJob",
    "composesWriteRouter",
    "ComposeWaits",
    "requestRemoval",
    "extendExpiry",
  ]) {
    expect(code, name).not.toContain(name);
  }
  expect(code).toContain("// node_modules/@libsql/client/lib-esm/web.js");
  expect(code).not.toContain("// node_modules/@libsql/client/lib-esm/node.js");
  expect(code).not.toContain("// node_modules/libsql/");
});
