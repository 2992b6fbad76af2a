import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ErrorSchema } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { errorBody } from "./errors.ts";
import { errorResponses } from "./responses.ts";
import { newRouter } from "./router.ts";

/**
 * What the metrics route needs from the process: prom-client lives in the
 * Node entry (it is not edge-safe), so the API only sees this.
 */
export interface MetricsSource {
  /** The Prometheus text exposition of every family. */
  render(): Promise<string>;
  readonly contentType: string;
  /** One finished HTTP request: method, route pattern, status, duration in seconds. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

const metricsRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "getMetrics",
  security: [],
  summary: "Prometheus metrics",
  description:
    "Prometheus text format. ODCS's families first, as ODCS prints them (`composes_total`, " +
    "`raw_config_composes_count_total`, `raw_config_composes_total`), then this server's `odcs_*` families " +
    "(queue, generation times, failures, sweep, event delivery, HTTP).",
  responses: {
    200: {
      description: "The metrics",
      content: { "text/plain": { schema: z.string() } },
    },
    503: {
      description: "This process exports no metrics",
      content: { "application/json": { schema: ErrorSchema } },
    },
    ...errorResponses,
  },
});

export function metricsRouter(deps: Pick<Deps, "metrics">) {
  const r = newRouter();
  r.openapi(metricsRoute, async (c) => {
    c.header("Access-Control-Allow-Origin", "*");
    if (!deps.metrics) return c.json(errorBody(503, "This process exports no metrics"), 503);
    const text = await deps.metrics.render();
    return c.text(text, 200, { "Content-Type": deps.metrics.contentType });
  });
  return r;
}

/** Times every request into `odcs_http_request_duration_seconds` by route pattern and status. */
export function requestTiming(metrics: MetricsSource): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = c.req.routePath || "unmatched";
      metrics.observeRequest(c.req.method, route, c.res.status, (performance.now() - start) / 1000);
    }
  };
}
