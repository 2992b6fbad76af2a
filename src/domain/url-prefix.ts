/**
 * Whether `url` lies under the URL prefix `prefix`, compared as parsed URLs:
 * same scheme, host and port (so `https://hooks.example.com.evil.org/` does
 * not match `https://hooks.example.com`, and `https://a.example:443/x`
 * matches `https://a.example/x`), no credentials, and a path under the
 * prefix's path on a segment boundary (`/hooks` allows `/hooks` and
 * `/hooks/ci`, not `/hooksevil`). Percent-escapes and dot segments in the
 * raw URL are refused: the parser would resolve them before we could see
 * where the URL really points.
 */
export function isUnderUrlPrefix(url: string, prefix: string): boolean {
  let u: URL;
  let p: URL;
  try {
    u = new URL(url);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return false;
  if (u.protocol !== p.protocol || u.host !== p.host) return false;
  if (u.username || u.password || u.hash) return false;
  const afterScheme = url.replace(/^[a-z][a-z0-9+.-]*:/i, "");
  if (/[%\\]/.test(afterScheme) || /\/\.\.?(\/|\?|$)/.test(afterScheme)) return false;
  if (p.search && u.search !== p.search) return false;
  const base = p.pathname.endsWith("/") ? p.pathname : `${p.pathname}/`;
  return u.pathname === p.pathname || u.pathname.startsWith(base);
}
