/**
 * openapi.yaml is fit for generators: linted by Redocly's recommended rules
 * (redocly.yaml) with no problem at all, an operationId on every operation,
 * named components, enums, examples, the ODCS error body on every error.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
const run = promisify(execFile);

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: object };
  servers: unknown[];
  info: { license?: unknown };
}

const doc = async () => parse(await readFile(join(ROOT, "openapi.yaml"), "utf8")) as Doc;
const operations = (d: Doc) =>
  Object.entries(d.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })),
  );

describe("openapi.yaml for generators", () => {
  test("Redocly's linter (recommended rules) finds no error and no warning", async () => {
    const { stdout } = await run(
      join(ROOT, "node_modules/.bin/redocly"),
      ["lint", "openapi.yaml", "--format=json"],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      },
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf("{"))) as {
      totals: { errors: number; warnings: number };
      problems: unknown[];
    };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  test("every operation has a unique operationId and a security statement", async () => {
    const ops = operations(await doc());
    expect(Object.fromEntries(ops.map(({ at, op }) => [at, op.operationId]))).toEqual({
      "GET /api/1/composes": "listComposes",
      "POST /api/1/composes": "createCompose",
      "GET /api/1/composes/{id}": "getCompose",
      "PATCH /api/1/composes/{id}": "renewCompose",
      "DELETE /api/1/composes/{id}": "deleteCompose",
      "GET /api/1/composes/{id}/wait": "waitForComposeState",
      "GET /api/1/about": "getAbout",
      "GET /api/1/events": "streamEvents",
      "GET /api/1/metrics": "getMetrics",
      "POST /api/1/uploads": "createUpload",
      "GET /api/1/uploads/{id}": "getUpload",
      "DELETE /api/1/uploads/{id}": "deleteUpload",
    });
    for (const { at, op } of ops) expect(op.security, at).toBeDefined();
  });

  test("every error response is the ODCS error body; every success a named schema", async () => {
    for (const { at, op } of operations(await doc())) {
      const codes = Object.keys(op.responses);
      expect(
        codes.some((c) => c.startsWith("4")),
        at,
      ).toBe(true);
      for (const [code, res] of Object.entries(op.responses)) {
        // The event stream and the metrics answer text (text/event-stream, text/plain).
        if (Number(code) < 400 && res.content && !res.content["application/json"]) continue;
        const ref = res.content?.["application/json"]?.schema?.$ref;
        // 304 Not Modified (If-None-Match) has no body by definition (RFC 9110 §15.4.5).
        if (code === "304") expect(res.content, `${at} ${code}`).toBeUndefined();
        else if (Number(code) >= 400)
          expect(ref, `${at} ${code}`).toBe("#/components/schemas/Error");
        else expect(ref, `${at} ${code}`).toMatch(/^#\/components\/schemas\/[A-Z]\w+$/);
      }
    }
  });

  test("named components with enums and examples; bearer security scheme; servers and license", async () => {
    const d = await doc();
    const s = d.components.schemas;
    expect(Object.keys(s)).toEqual(
      expect.arrayContaining([
        "Compose",
        "ComposeDetail",
        "ComposeList",
        "ComposeListMeta",
        "Error",
        "Accepted",
        "About",
        "CreateComposeBody",
        "ComposeSource",
        "RenewComposeBody",
        "ComposeStateName",
        "FlagName",
        "ResultName",
        "SourceTypeName",
      ]),
    );
    const props = s.Compose?.properties as Record<string, Record<string, unknown>>;
    expect(props.state?.enum).toEqual([0, 1, 2, 3, 4]);
    expect(props.source_type?.enum).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.ComposeStateName?.enum).toEqual(["wait", "generating", "done", "removed", "failed"]);
    expect(s.FlagName?.enum).not.toContain("no_flags");
    expect(s.ResultName?.enum).toEqual(["repository", "iso", "ostree", "boot.iso"]);
    const body = s.CreateComposeBody?.properties as Record<string, { items?: { enum?: string[] } }>;
    expect(body.multilib_method?.items?.enum).toEqual(["none", "runtime", "devel", "all"]);
    expect(body.flags?.items?.enum).toContain("no_flags");
    expect(s.Compose?.example).toMatchObject({ id: 42, state_name: "wait" });
    expect(d.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    expect(d.servers).toHaveLength(1);
    expect(d.info.license).toEqual({ name: "MIT", identifier: "MIT" });
  });
});
