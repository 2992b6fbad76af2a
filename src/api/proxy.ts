import { getPathNoStrict } from "hono/utils/url";

/**
 * Reverse-proxy headers (`X-Script-Name`, `X-Forwarded-Host`, `X-Scheme`,
 * `X-Forwarded-Proto`), honoured only when the operator says a proxy in
 * front sets them (`ODCS_TRUST_PROXY=true`). Without that, any client could
 * make the service hand out links to a host of its choosing.
 */

/** Characters of a URL path (RFC 3986 pchar and "/"), none that could end an HTML attribute. */
const SAFE_PATH = /^[A-Za-z0-9\-._~%!$&'()*+,;=:@/]+$/;

type Headers = { get(name: string): string | null | undefined };

/** The first value of a possibly comma-separated forwarded header, trimmed. */
function first(value: string | null | undefined): string | undefined {
  const v = value?.split(",")[0]?.trim();
  return v ? v : undefined;
}

/**
 * The path prefix the proxy serves the API under (`X-Script-Name`), `""` if
 * none or not trusted; always `"/x/y"` shaped (leading slash, no trailing).
 */
export function scriptName(headers: Headers, trustProxy: boolean): string {
  if (!trustProxy) return "";
  const raw = (headers.get("x-script-name") ?? "").trim().replace(/\/+$/, "");
  // A path and nothing else: it goes into links and pages verbatim.
  if (raw === "" || !SAFE_PATH.test(raw)) return "";
  return raw.startsWith("/") ? raw : `/${raw}`;
}

/**
 * `path` without the `X-Script-Name` prefix when it starts with it (a proxy
 * that forwards the full path), unchanged otherwise (one that strips it), as
 * ODCS does.
 */
export function stripScriptName(path: string, prefix: string): string {
  if (prefix === "") return path;
  if (path === prefix) return "/";
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

/**
 * Hono's `getPath` for the app: the non-strict path (a trailing slash
 * matches both ways), without the trusted `X-Script-Name` prefix.
 */
export function appGetPath(trustProxy: boolean) {
  return (request: Request): string =>
    stripScriptName(getPathNoStrict(request), scriptName(request.headers, trustProxy));
}

/**
 * Scheme://host[/prefix] of the request for absolute links (§1). Trusted:
 * `X-Scheme` (else `X-Forwarded-Proto`), `X-Forwarded-Host` and
 * `X-Script-Name` as ODCS honours them. Untrusted: the URL's scheme and the
 * `Host` header only.
 */
export function externalBase(url: URL, headers: Headers, trustProxy: boolean): string {
  const own = url.protocol.replace(/:$/, "");
  const host = headers.get("host") ?? url.host;
  if (!trustProxy) return `${own}://${host}`;
  const scheme = first(headers.get("x-scheme")) ?? first(headers.get("x-forwarded-proto")) ?? own;
  const fwdHost = first(headers.get("x-forwarded-host")) ?? host;
  return `${scheme}://${fwdHost}${scriptName(headers, true)}`;
}
