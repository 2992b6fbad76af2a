import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, Env, Hono } from "hono";
import { scriptName, stripScriptName } from "../api/proxy.ts";
import { LOG_FILE, STAGING_DIR } from "../worker/paths.ts";

/**
 * The log of the newest attempt of a compose still being generated
 * (`.staging/odcs-<id>/attempt-<n>/pungi-stderr.log`, highest n), if any.
 */
export function stagingLog(targetDir: string, name: string): string | undefined {
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
 * The path of the request exactly as sent: still percent-encoded, dot
 * segments not yet removed (the Node request line, which the WHATWG URL of
 * `c.req.url` has normalised), no query or fragment.
 */
function rawPath(c: Context): string {
  const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
  let path = incoming;
  if (path === undefined || !path.startsWith("/")) {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("://") + 3);
    path = start < 0 ? "/" : url.slice(start);
  }
  const end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}

/**
 * The segments of a file path below the served dir, each percent-decoded
 * exactly once (`%2B` is `+`, a literal `+` stays `+`, `%252B` is the name
 * `%2B`); `undefined` for anything that must not reach the disk: malformed
 * escapes, empty segments, dot segments and hidden entries (also when
 * encoded, `%2e`), and segments that decode to a slash, backslash or NUL.
 */
export function fileSegments(encoded: string): string[] | undefined {
  const parts = encoded.replace(/^\//, "").split("/");
  const out: string[] = [];
  for (const part of parts) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (seg === "" || seg.startsWith(".") || /[/\\\0]/.test(seg)) return undefined;
    out.push(seg);
  }
  return out;
}

const notFound = (c: Context) => c.text("Not Found", 404);

/**
 * `file` with its symlinks resolved, if that is a regular file inside
 * `root` (itself resolved); otherwise undefined. A link in the tree that
 * points out of it (to /etc/passwd, to /) is never followed.
 */
export function fileInside(root: string, file: string): string | undefined {
  try {
    const real = realpathSync(file);
    const top = realpathSync(root);
    if (!real.startsWith(top.endsWith(sep) ? top : `${top}${sep}`)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serve the compose tree at `/composes/` with Range support (the ODCS client
 * tails `pungi-stderr.log` with Range requests). Paths are percent-decoded
 * once, segment by segment, as dnf (librepo) encodes `+`, `^` and the like
 * in package file names. Only regular files are served; hidden entries (the
 * staging area) never, except that the log of a compose still being
 * generated is served at its final URL from the staging dir. A symlink is
 * followed only when it ends inside the tree.
 */
export function mountComposeFiles<E extends Env>(
  app: Hono<E>,
  targetDir: string,
  opts: { prefix?: string; trustProxy?: boolean } = {},
): void {
  const prefix = opts.prefix ?? "/composes";
  app.on(["GET", "HEAD"], [prefix, `${prefix}/*`], async (c, next) => {
    const path = stripScriptName(
      rawPath(c),
      scriptName(c.req.raw.headers, opts.trustProxy ?? false),
    );
    if (!path.startsWith(`${prefix}/`)) return notFound(c);
    const segments = fileSegments(path.slice(prefix.length));
    if (!segments) return notFound(c);
    const [top, ...rest] = segments;
    let file = join(targetDir, ...segments);
    if (top && rest.length === 1 && rest[0] === LOG_FILE && /^odcs-\d+$/.test(top)) {
      if (!existsSync(join(targetDir, top))) {
        const log = stagingLog(targetDir, top);
        if (!log) return notFound(c);
        file = log;
      }
    }
    const real = fileInside(targetDir, file);
    if (!real) return notFound(c);
    return serveStatic({ path: real })(c, next);
  });
}
