/**
 * Caching of compose lookups at the edge. A compose that is `done`,
 * `removed` or `failed` changes rarely (a renewal moves its expiry, expiry
 * removes it), so its answer carries an ETag and `Cache-Control: public,
 * max-age=<ttl>` and is kept in the Workers Cache API for `ttl` seconds;
 * `wait` and `generating` composes change any moment and are `no-store`.
 */
import { STATE_NAMES } from "../domain/states.ts";

const FINAL_STATES = new Set<string>(["done", "removed", "failed"]);
const COMPOSE_PATH = /^\/api\/1\/composes\/\d+\/?$/;

/** The part of the Workers `Cache` the edge uses (`caches.default`). */
export interface CacheLike {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** The runtime's shared cache: `caches.default` under workerd, none elsewhere. */
export function defaultCache(): CacheLike | undefined {
  const caches = (globalThis as { caches?: { default?: CacheLike } }).caches;
  return caches?.default;
}

async function etagOf(body: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const hex = [...new Uint8Array(digest).subarray(0, 16)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `"${hex}"`;
}

function matches(ifNoneMatch: string | null, etag: string | null): boolean {
  if (ifNoneMatch === null || etag === null) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag.replace(/^W\//, "");
  });
}

function notModified(res: Response): Response {
  const headers = new Headers();
  for (const name of ["ETag", "Cache-Control", "X-Request-Id", "Access-Control-Allow-Origin"]) {
    const v = res.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  return new Response(null, { status: 304, headers });
}

/**
 * Wrap a fetch handler: `GET /api/1/composes/<id>` answers of final
 * composes get an ETag (the app's, or a hash of the body) and a max-age,
 * are kept in `cache` (when there is one and `ttlSeconds` > 0) and answer
 * `If-None-Match` with 304; answers of unfinished composes get `no-store`.
 */
export function withFinalComposeCaching(
  handler: (request: Request) => Promise<Response>,
  opts: { ttlSeconds: number; cache?: CacheLike },
) {
  const cache = opts.ttlSeconds > 0 ? (opts.cache ?? defaultCache()) : undefined;
  return async (request: Request, ctx?: WaitUntil): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method !== "GET" || !COMPOSE_PATH.test(url.pathname)) return handler(request);
    // One entry per compose: the query string does not change the answer.
    const key = new Request(`${url.origin}${url.pathname.replace(/\/$/, "")}`, { method: "GET" });
    const ifNoneMatch = request.headers.get("If-None-Match");
    const hit = await cache?.match(key);
    if (hit) {
      const copy = new Response(hit.body, hit); // headers of a cached answer may be immutable
      const res = matches(ifNoneMatch, copy.headers.get("ETag")) ? notModified(copy) : copy;
      res.headers.set("X-Edge-Cache", "hit");
      return res;
    }
    const res = await handler(request);
    if (res.status !== 200) return res;
    const body = await res.text();
    const headers = new Headers(res.headers);
    const state = (JSON.parse(body) as { state_name?: unknown }).state_name;
    if (typeof state !== "string" || !STATE_NAMES.includes(state as never)) {
      throw new Error(`a compose answer without a known state_name: ${String(state)}`);
    }
    if (!FINAL_STATES.has(state)) {
      headers.set("Cache-Control", "no-store");
      return new Response(body, { status: 200, headers });
    }
    if (!headers.has("ETag")) headers.set("ETag", await etagOf(body));
    headers.set("Cache-Control", `public, max-age=${opts.ttlSeconds}`);
    const fresh = new Response(body, { status: 200, headers });
    if (cache) {
      const stored = cache.put(key, fresh.clone());
      if (ctx) ctx.waitUntil(stored);
      else await stored;
    }
    const out = matches(ifNoneMatch, headers.get("ETag")) ? notModified(fresh) : fresh;
    out.headers.set("X-Edge-Cache", "miss");
    return out;
  };
}
