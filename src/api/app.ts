// First: it extends zod with .openapi(), which the request schemas need at load.
import "@hono/zod-openapi";
import { dashboardRouter } from "../dashboard/index.tsx";
import { dashboardLoginOf } from "../dashboard/login/login.ts";
import { CreateComposeBody, RenewComposeBody } from "../domain/request-schemas.ts";
import { type App, buildApp, createReadOnlyApp } from "./app-core.ts";
import { composeWaitRouter } from "./compose-wait.ts";
import { ComposeWaits } from "./compose-waits.ts";
import { composesWriteRouter } from "./composes-write.ts";
import type { Deps } from "./deps.ts";
import { EventFeed } from "./event-feed.ts";
import { eventsRouter } from "./events.ts";
import { metricsRouter, requestTiming } from "./metrics.ts";
import { uploadsRouter } from "./uploads.ts";

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
      if (deps.metrics) app.use("*", requestTiming(deps.metrics));
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
      const feed = deps.eventFeed ?? new EventFeed(deps.db, deps.config.ODCS_EVENTS_POLL_MS);
      app.route("/api/1/events", eventsRouter(deps, feed));
      app.route("/api/1/metrics", metricsRouter(deps));
      // The web dashboard at / and /ui/… (its `/` wins over the plain index page).
      app.route("/", dashboardRouter(deps));
      app.route("/", dashboardLoginOf(deps).routes);
      app.route("/api/1/uploads", uploadsRouter(deps));
    },
  });
}
