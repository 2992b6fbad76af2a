import { createRoute } from "@hono/zod-openapi";
import { allowedClientsForAbout } from "../domain/permissions.ts";
import { AboutSchema } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { errorResponses } from "./responses.ts";
import { newRouter } from "./router.ts";

const aboutRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "getAbout",
  tags: ["about"],
  summary: "Server information",
  security: [],
  responses: {
    200: {
      description: "About this server",
      content: { "application/json": { schema: AboutSchema } },
    },
    ...errorResponses,
  },
});

export function aboutRouter(deps: Deps) {
  const r = newRouter();
  r.openapi(aboutRoute, (c) => {
    c.header("Access-Control-Allow-Origin", "*");
    return c.json(
      {
        allowed_clients: allowedClientsForAbout(deps.config),
        auth_backend: deps.auth.backend,
        raw_config_urls: {},
        sigkeys: [...deps.config.ODCS_SIGKEYS],
        version: deps.version,
      },
      200,
    );
  });
  return r;
}
