// First: it extends zod with .openapi(), which the request schemas need at load.
import "@hono/zod-openapi";
import { CreateComposeBody, RenewComposeBody } from "../domain/request-schemas.ts";
import { type App, buildApp, createReadOnlyApp } from "./app-core.ts";
import { composeWaitRouter } from "./compose-wait.ts";
import { ComposeWaits } from "./compose-waits.ts";
import { composesWriteRouter } from "./composes-write.ts";
import type { Deps } from "./deps.ts";

export { OPENAPI_INFO, openApiHead } from "./app-core.ts";

/**
 * Build the HTTP app from its dependencies. `readOnly` leaves out every
 * writing route (the edge deployment serves status lookups only).
 */
export function createApp(deps: Deps, opts: { readOnly: boolean } = { readOnly: false }): App {
  if (opts.readOnly) return createReadOnlyApp(deps);
  return buildApp(deps, {
    readOnly: false,
    register: (app) => {
      app.openAPIRegistry.register("CreateComposeBody", CreateComposeBody);
      app.openAPIRegistry.register("RenewComposeBody", RenewComposeBody);
      app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "OIDC access token (ODCS_AUTH_BACKEND=openidc); not needed with noauth",
      });
    },
    extend: (app) => {
      const waits = deps.waits ?? new ComposeWaits(deps.db);
      app.route("/api/1/composes", composesWriteRouter({ ...deps, waits }));
      app.route("/api/1/composes", composeWaitRouter(deps, waits));
    },
  });
}
