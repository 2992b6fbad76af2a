import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { requestId } from "hono/request-id";
import { aboutRouter } from "./about.ts";
import { composesRouter } from "./composes.ts";
import { CreateComposeBody, RenewComposeBody } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { errorResponse, handleError } from "./errors.ts";

export const OPENAPI_INFO = {
  title: "ODCS-TS — On Demand Compose Service",
  description:
    "Builds temporary RPM repositories (composes) on request. Wire-compatible with the ODCS REST API v1: " +
    "the ODCS Python client and CLI work unchanged.",
};

/**
 * Build the HTTP app from its dependencies. `readOnly` leaves out every
 * writing route (the edge deployment serves status lookups only).
 */
export function createApp(deps: Deps, opts: { readOnly: boolean } = { readOnly: false }) {
  const app = new OpenAPIHono({ strict: false });
  app.use("*", requestId({ headerName: "X-Request-Id" }));
  app.onError(handleError(deps.log));
  app.notFound((c) => errorResponse(c, 404, "The requested URL was not found on the server."));

  app.openAPIRegistry.register("CreateComposeBody", CreateComposeBody);
  app.openAPIRegistry.register("RenewComposeBody", RenewComposeBody);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "OIDC access token (ODCS_AUTH_BACKEND=openidc); not needed with noauth",
  });
  app.route("/api/1/composes", composesRouter(deps, opts));
  app.route("/api/1/about", aboutRouter(deps));

  app.doc31("/api/1/openapi.json", { openapi: "3.1.0", info: { ...OPENAPI_INFO, version: deps.version } });
  app.get("/api/1/docs", Scalar({ url: "/api/1/openapi.json", pageTitle: OPENAPI_INFO.title }));
  app.get("/", (c) =>
    c.html(
      `<!doctype html><html><head><title>On Demand Compose Service</title></head><body>` +
        `<h1>On Demand Compose Service</h1><p>API: <a href="/api/1/composes/">/api/1/composes/</a>, ` +
        `reference: <a href="/api/1/docs">/api/1/docs</a>. Composes are published at ` +
        `<a href="${deps.config.ODCS_TARGET_DIR_URL}">${deps.config.ODCS_TARGET_DIR_URL}</a>.</p></body></html>`,
    ),
  );
  return app;
}
