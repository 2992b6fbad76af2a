import { existsSync } from "node:fs";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Env, Hono } from "hono";
import { LOG_FILE, STAGING_DIR } from "../worker/paths.ts";

/**
 * Serve the compose tree at `/composes/` with Range support (the ODCS client
 * tails `pungi-stderr.log` with Range requests). Hidden entries (the staging
 * area) are never served, except that the log of a compose still being
 * generated is served at its final URL from the staging dir.
 */
export function mountComposeFiles<E extends Env>(
  app: Hono<E>,
  targetDir: string,
  prefix = "/composes",
): void {
  app.use(`${prefix}/*`, async (c, next) => {
    const rest = c.req.path.slice(prefix.length);
    if (rest.split("/").some((seg) => seg.startsWith("."))) return c.text("Not Found", 404);
    const m = /^\/(odcs-\d+)\/pungi-stderr\.log$/.exec(rest);
    if (m?.[1] && !existsSync(join(targetDir, m[1]))) {
      return serveStatic({ path: join(targetDir, STAGING_DIR, m[1], LOG_FILE) })(c, next);
    }
    return next();
  });
  app.use(
    `${prefix}/*`,
    serveStatic({ root: targetDir, rewriteRequestPath: (p) => p.slice(prefix.length) || "/" }),
  );
}
