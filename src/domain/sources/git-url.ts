/**
 * Git repositories the server may clone (`module_defaults_url`): https,
 * http or file URLs under a prefix of `ODCS_ALLOWED_GIT_URLS`. Pure, so the
 * API's request check and the worker's check before cloning agree.
 */

import { isUrlUnderPrefix } from "../allowed-location.ts";

const SCHEMES = new Set(["https:", "http:", "file:"]);

/** A file URL compared as an http URL of one fixed host (same segment rules, no host of its own). */
function comparable(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!SCHEMES.has(u.protocol)) return undefined;
  if (u.protocol !== "file:") return url;
  if (u.hostname !== "" && u.hostname !== "localhost") return undefined;
  return `http://file.invalid${u.pathname}`;
}

/** Whether `url` may be cloned: an https/http/file URL under one of `prefixes` (none: nothing may). */
export function isAllowedGitUrl(url: string, prefixes: readonly string[]): boolean {
  const u = comparable(url);
  if (u === undefined) return false;
  const scheme = new URL(url).protocol;
  return prefixes.some((p) => {
    const c = comparable(p);
    return c !== undefined && new URL(p).protocol === scheme && isUrlUnderPrefix(u, c);
  });
}
