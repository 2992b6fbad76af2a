import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Env, Hono } from "hono";
import { LOG_FILE, STAGING_DIR } from "../worker/paths.ts";

/**
 * The log of the newest attempt of a compose still being generated
 * (`.staging/odcs-<id>/attempt-<n>/pungi-stderr.log`, highest n), if any.
 */
function stagingLog(targetDir: string, name: string): string | undefined {
  const dir = join(targetDir, STAGING_DIR, name);
  let newest = -1;
  try {
    for (const entry of readdirSync(dir)) {
      const m = /^attempt-(\d+)$/.exec(entry);
      if (m) newest = Math.max(newest, Number(m[1]));
    }
  } catch {
    return undefined;
  }
  return newest < 0 ? undefined : join(dir, `attempt-${newest}`, LOG_FILE);
}

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
    let decoded: string;
    try {
      decoded = decodeURIComponent(rest);
    } catch {
      return c.text("Not Found", 404);
    }
    // Checked on the decoded path too: "%2estaging" must not reach the staging area.
    if ([rest, decoded].some((p) => p.split("/").some((seg) => seg.startsWith("."))))
      return c.text("Not Found", 404);
    const m = /^\/(odcs-\d+)\/pungi-stderr\.log$/.exec(rest);
    if (m?.[1] && !existsSync(join(targetDir, m[1]))) {
      const log = stagingLog(targetDir, m[1]);
      if (!log) return c.text("Not Found", 404);
      return serveStatic({ path: log })(c, next);
    }
    return next();
  });
  app.use(
    `${prefix}/*`,
    serveStatic({ root: targetDir, rewriteRequestPath: (p) => p.slice(prefix.length) || "/" }),
  );
}
