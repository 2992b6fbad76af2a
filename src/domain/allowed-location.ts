/**
 * The comparisons of a location against what the operator allows: URL
 * prefixes (`ODCS_ALLOWED_REPO_URLS`) and local roots
 * (`ODCS_ALLOWED_REPO_ROOTS`). Pure, so the API's request check and the
 * worker's check of every location a repository's metadata names (which
 * also resolves symlinks first) compare the same way.
 */

/**
 * The path segments of `url`, percent-decoded, or `undefined` when one
 * decodes to something a server could read as more than one segment or as
 * a step up (`..%2f`, `%2e%2e` left by a double encoding, a backslash, NUL)
 * or does not decode at all. The URL parser has already resolved `.`, `..`,
 * `%2e%2e` and backslashes; what it keeps encoded is checked here.
 */
function decodedSegments(url: URL): string[] | undefined {
  const out: string[] = [];
  for (const raw of url.pathname.split("/").slice(1)) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s === "." || s === ".." || /[/\\\0]/.test(s)) return undefined;
    out.push(s);
  }
  return out;
}

/**
 * True when `url` lies under `prefix`: both parsed, same scheme (http or
 * https), host and port, no user info in `url`, and the prefix's path
 * segments (decoded, a trailing `/` ignored) are the first segments of
 * `url`'s — so `/repos` covers `/repos/a` but not `/repos-evil/a`, and
 * `http://allowed@evil/` is host `evil`. Never a raw string comparison.
 */
export function isUrlUnderPrefix(url: string, prefix: string): boolean {
  let u: URL;
  let p: URL;
  try {
    u = new URL(url);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return false;
  if (u.username !== "" || u.password !== "") return false;
  if (u.protocol !== p.protocol || u.hostname !== p.hostname || u.port !== p.port) return false;
  const us = decodedSegments(u);
  const ps = decodedSegments(p);
  if (!us || !ps) return false;
  if (ps.at(-1) === "") ps.pop();
  if (us.length < ps.length) return false;
  return ps.every((s, i) => us[i] === s);
}

/** True when `url` lies under one of `prefixes` (see `isUrlUnderPrefix`). */
export function isAllowedUrl(url: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => isUrlUnderPrefix(url, p));
}

/** True when `path` is `root` itself or lies below it (both normalised, absolute). */
export function isUnderRoot(path: string, root: string): boolean {
  const r = root.length > 1 ? root.replace(/\/+$/, "") : root;
  return path === r || path.startsWith(r === "/" ? "/" : `${r}/`);
}

/** True when the absolute, normalised `path` is one of `roots` or lies below one. */
export function isAllowedPath(path: string, roots: readonly string[]): boolean {
  return path.startsWith("/") && roots.some((r) => isUnderRoot(path, r));
}
