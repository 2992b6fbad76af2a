import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import { requestId } from "hono/request-id";
import { aboutRouter } from "./about.ts";
import { composesRouter } from "./composes.ts";
import type { Deps } from "./deps.ts";
import { errorResponse, handleError, METHOD_NOT_ALLOWED, NOT_FOUND_URL } from "./errors.ts";
import { appGetPath, scriptName } from "./proxy.ts";

export const OPENAPI_INFO = {
  title: "ODCS-TS — On Demand Compose Service",
  description:
    "Builds temporary RPM repositories (composes) on request. Wire-compatible with the ODCS REST API v1: " +
    "the ODCS Python client and CLI work unchanged.",
  license: { name: "MIT", identifier: "MIT" },
};

/**
 * The top of the OpenAPI document. The server is `npm start`'s default
 * address; clients set their own base URL. Fixed, so the document does not
 * depend on where it is rendered.
 */
export function openApiHead(version: string) {
  return {
    openapi: "3.1.0",
    info: { ...OPENAPI_INFO, version },
    servers: [{ url: "http://localhost:5000", description: "npm start's default address" }],
    tags: [
      { name: "composes", description: "Request, read, renew and remove composes" },
      { name: "about", description: "Server information" },
      { name: "uploads", description: "RPMs uploaded for `upload` composes (ours, beyond ODCS)" },
    ],
  };
}

const READ_ONLY = ["GET", "HEAD", "OPTIONS"];

/**
 * Methods a known path answers, for OPTIONS (200 + `Allow`, as upstream) and
 * for 405s. Upstream answers a wrong method with a 500 carrying the 405 text
 * (§1.2 quirk); we send the real status with the same JSON shape.
 */
function allowedMethods(path: string, readOnly: boolean): string[] | undefined {
  const p = path.length > 1 ? path.replace(/\/$/, "") : path;
  if (p === "/api/1/composes") return readOnly ? READ_ONLY : ["GET", "HEAD", "OPTIONS", "POST"];
  if (/^\/api\/1\/composes\/\d+\/wait$/.test(p) && !readOnly) return READ_ONLY;
  if (/^\/api\/1\/composes\/\d+$/.test(p)) {
    return readOnly ? READ_ONLY : ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH"];
  }
  if (["/api/1/events", "/api/1/metrics"].includes(p) && !readOnly) return READ_ONLY;
  // Uploads are written by the full service only; the edge refuses them with a 405.
  if (p === "/api/1/uploads") return readOnly ? ["OPTIONS"] : ["OPTIONS", "POST"];
  if (/^\/api\/1\/uploads\/[^/]+$/.test(p))
    return readOnly ? ["OPTIONS"] : ["DELETE", "GET", "HEAD", "OPTIONS"];
  if (["/", "/api/1/about", "/api/1/openapi.json", "/api/1/docs"].includes(p)) return READ_ONLY;
  return undefined;
}

/**
 * The 405 text of a read-only app for a method the full service has:
 * where to send it instead.
 */
export function writeRefusal(originUrl: string | undefined): string {
  const where = originUrl ? `the ODCS origin server, ${originUrl}` : "the ODCS origin server";
  return `${METHOD_NOT_ALLOWED} This server answers status lookups only; send writes to ${where}.`;
}

export type App = OpenAPIHono;

/**
 * The app both builds share: error handling, the compose reads, about, the
 * OpenAPI document, docs and the index page. `extend` adds the writing
 * routes (app.ts); without it the app is read-only and imports none of their
 * code, which is what src/edge.ts bundles.
 */
export function buildApp(
  deps: Deps,
  opts: {
    readOnly: boolean;
    /** Runs first: registers components, so the document's order is the routes'. */
    register?: (app: App) => void;
    /** Mounts routes after the compose reads and before about. */
    extend?: (app: App) => void;
  },
): App {
  const trustProxy = deps.config.ODCS_TRUST_PROXY;
  // Not `strict: false`, which would ignore `getPath`; appGetPath is non-strict itself.
  const app = new OpenAPIHono({ getPath: appGetPath(trustProxy) });
  app.use("*", requestId({ headerName: "X-Request-Id" }));
  app.onError(handleError(deps.log));
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path, opts.readOnly);
    if (allowed === undefined) return errorResponse(c, 404, NOT_FOUND_URL);
    c.header("Allow", allowed.join(", "));
    if (c.req.method === "OPTIONS") return c.body(null, 200);
    const isWrite = opts.readOnly && allowedMethods(c.req.path, false)?.includes(c.req.method);
    return errorResponse(
      c,
      405,
      isWrite ? writeRefusal(deps.config.ODCS_ORIGIN_URL) : METHOD_NOT_ALLOWED,
    );
  });
  opts.register?.(app);
  app.route("/api/1/composes", composesRouter(deps));
  opts.extend?.(app);
  app.route("/api/1/about", aboutRouter(deps));

  app.doc31("/api/1/openapi.json", openApiHead(deps.version));
  // Links in pages are root-relative: behind a trusted proxy they carry its X-Script-Name.
  const base = (c: Context) => scriptName(c.req.raw.headers, trustProxy);
  app.get(
    "/api/1/docs",
    Scalar((c) => ({ url: `${base(c)}/api/1/openapi.json`, pageTitle: OPENAPI_INFO.title })),
  );
  app.get("/", (c) =>
    c.html(
      `<!doctype html><html><head><title>On Demand Compose Service</title></head><body>` +
        `<h1>On Demand Compose Service</h1><p>API: <a href="${base(c)}/api/1/composes/">/api/1/composes/</a>, ` +
        `reference: <a href="${base(c)}/api/1/docs">/api/1/docs</a>. Composes are published at ` +
        `<a href="${deps.config.ODCS_TARGET_DIR_URL}">${deps.config.ODCS_TARGET_DIR_URL}</a>.</p></body></html>`,
    ),
  );
  return app;
}

/** The read-only app: status lookups for the edge, Deno and Bun. */
export function createReadOnlyApp(deps: Deps): App {
  return buildApp(deps, { readOnly: true });
}
