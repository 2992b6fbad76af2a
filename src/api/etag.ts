import type { Context, TypedResponse } from "hono";

/**
 * cyrb53: a 53-bit hash of a string, ~1 µs for a compose's JSON. Not
 * cryptographic; an ETag only has to change when the bytes change, and a
 * 2^-53 chance of a stale 304 per change is well below a lost poll.
 */
function hash53(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The strong ETag of a response body. */
export function etagOf(body: string): string {
  return `"${hash53(body)}"`;
}

/** Whether an `If-None-Match` header value names `etag` (weak comparison, RFC 9110 §13.1.2). */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/**
 * Answer `value` as JSON with its ETag, or `304 Not Modified` (no body)
 * when the request's `If-None-Match` names that ETag: a poller whose
 * compose did not change gets a few bytes. The body is serialised once,
 * for the hash and the reply.
 */
export function jsonWithEtag<T>(c: Context, value: T): TypedResponse<T, 200, "json"> {
  const body = JSON.stringify(value);
  return sendJson<T>(c, body, etagOf(body));
}

/** `jsonWithEtag` of an already serialised body and its ETag. */
export function sendJson<T>(c: Context, body: string, etag: string): TypedResponse<T, 200, "json"> {
  c.header("ETag", etag);
  // Typed as the 200 JSON reply the route declares; the 304 is declared beside it.
  if (noneMatchHits(c.req.header("If-None-Match"), etag))
    return c.body(null, 304) as unknown as TypedResponse<T, 200, "json">;
  c.header("Content-Type", "application/json");
  return c.body(body, 200) as unknown as TypedResponse<T, 200, "json">;
}

/** The OpenAPI entry of the conditional-request answer. */
export const notModifiedResponse = {
  304: { description: "Not modified: the If-None-Match header names the current ETag" },
};
