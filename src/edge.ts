import {
  createReadOnlyHandler,
  type ExecutionContextLike,
  type Handler,
} from "./edge/read-only.ts";

/**
 * Cloudflare Workers entry (wrangler.toml): read-only status lookups —
 * compose get/list, about, openapi.json, docs — over a remote libSQL
 * database. Writes answer 405 naming `ODCS_ORIGIN_URL`. The app is built
 * on the first request from the Worker's bindings and kept for the life of
 * the isolate (the bindings do not change within one).
 */
let handler: Handler | undefined;

export default {
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContextLike) {
    handler ??= createReadOnlyHandler(env);
    return handler(request, ctx);
  },
};
