/**
 * Every route of the full app (API, uploads, events, metrics, about,
 * OpenAPI and docs, dashboard pages and forms, login, unknown paths) under
 * fuzzed methods, paths, query strings, headers and bodies, in-process.
 * Properties of every answer: no 5xx; under /api/ a 4xx has the ODCS error
 * body `{status, error, message}` with the answer's status; a 4xx writes no
 * row and no event; every answer comes within a bound; Object.prototype is
 * never touched. After the run, valid requests still work.
 *
 * CI runs a fixed seed; FUZZ_SEED / FUZZ_RUNS as in test/api/fuzz.test.ts
 * (`npm run soak:fuzz` runs them long).
 */
import { fc, test } from "@fast-check/vitest";
import { asc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { composes, events, jobs, uploads } from "../../src/db/schema.ts";
import { ServerMetrics } from "../../src/metrics/registry.ts";
import { givenCompose } from "../helpers/given.ts";
import { hostileValue, mutatedBody } from "../helpers/schema-arbitrary.ts";
import { testApp } from "../helpers/test-app.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const ANSWER_WITHIN_MS = 10_000;

type T = Awaited<ReturnType<typeof testApp>>;
let t: T;

beforeAll(async () => {
  const config = {
    ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
    ODCS_MAX_BODY_BYTES: String(64 * 1024),
    ODCS_EVENTS_HEARTBEAT_SECONDS: 1,
  };
  const base = await testApp({ config });
  // With metrics, as the server process has them (without, /api/1/metrics/ is a documented 503).
  t = await testApp({
    config,
    deps: { db: base.db, metrics: new ServerMetrics(base.db, () => base.clock.now()) },
  });
  t = { ...t, db: base.db };
  // Settled composes only, so a wait on any of them ends at once.
  for (const state of [2, 4, 3, 2]) await givenCompose(t.db, { state });
});

async function snapshot(): Promise<string> {
  const [c, j, e, u] = await Promise.all([
    t.db.select().from(composes).orderBy(asc(composes.id)),
    t.db.select().from(jobs).orderBy(asc(jobs.id)),
    t.db.select().from(events).orderBy(asc(events.id)),
    t.db.select().from(uploads).orderBy(asc(uploads.id)),
  ]);
  return JSON.stringify([c, j, e, u]);
}

/** Answers seen per status, to show the fuzzer reached past the validators. */
const seen = new Map<number, number>();

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** Send; check the properties every answer must have. */
async function check(method: string, path: string, headers: Record<string, string>, body?: string) {
  const before = await snapshot();
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const bounded = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`));
    }, ANSWER_WITHIN_MS);
  });
  const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
  const res = await Promise.race([
    t.app.request(path, {
      method,
      headers,
      signal: ctl.signal,
      ...(hasBody ? { body } : {}),
    }),
    bounded,
  ]).finally(() => clearTimeout(timer));
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const what = `${method} ${path} ${JSON.stringify(headers).slice(0, 300)} ${String(body).slice(0, 200)} → ${res.status}`;
  // An event stream never ends by itself: the head is the answer.
  let text = "";
  if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream"))
    await res.body?.cancel();
  else text = await res.text();
  expect(res.status, `${what} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status >= 400) {
    const path0 = path.split("?")[0] ?? "";
    if (path0.startsWith("/api/") && method !== "HEAD") {
      const json = JSON.parse(text) as unknown;
      expect(json, what).toEqual({
        status: res.status,
        error: expect.any(String),
        message: expect.any(String),
      });
    }
    expect(await snapshot(), `${what} wrote something`).toBe(before);
  }
  expect(Object.getOwnPropertyNames(Object.prototype).sort(), what).toEqual(PROTO_KEYS);
  expect(({} as Record<string, unknown>).polluted, what).toBeUndefined();
}

const hostileSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("1", "2", "3", "4") },
  fc.constantFrom(
    "1",
    "2",
    "4",
    "0",
    "-1",
    "1e3",
    "9".repeat(40),
    "0x10",
    "%00",
    "%2e%2e",
    "..",
    "%252e%252e",
    "%ff",
    "%",
    "%zz",
    "a%2fb",
    "__proto__",
    "constructor",
    "ｱ",
    "00000000-0000-0000-0000-000000000000",
    "x".repeat(3000),
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const PATHS = [
  "/api/1/composes/",
  "/api/1/composes",
  "/api/1/composes/{s}",
  "/api/1/composes/{s}/",
  "/api/1/composes/{s}/wait",
  "/api/1/composes/{s}/{s}",
  "/api/1/about/",
  "/api/1/about",
  "/api/1/metrics/",
  "/api/1/events/",
  "/api/1/uploads/",
  "/api/1/uploads/{s}",
  "/api/1/openapi.json",
  "/api/1/docs",
  "/api/1/{s}",
  "/api/{s}",
  "/",
  "/ui/new",
  "/ui/queue",
  "/ui/charts",
  "/ui/about",
  "/ui/composes/{s}",
  "/ui/composes/{s}/renew",
  "/ui/composes/{s}/delete",
  "/ui/assets/{s}",
  "/login",
  "/login/callback",
  "/logout",
  "/{s}",
  "//api/1/composes/",
  "/api/1/composes/;x",
];

const pathArb = fc
  .tuple(fc.constantFrom(...PATHS), fc.array(hostileSegment, { minLength: 2, maxLength: 2 }))
  .map(([p, [a, b]]) => p.replace("{s}", a ?? "").replace("{s}", b ?? ""));

const QUERY_KEYS = [
  "owner",
  "state",
  "source_type",
  "source",
  "order_by",
  "page",
  "per_page",
  "timeout",
  "last_event_id",
  "compose_id",
  "seconds_to_live",
  "range",
  "notice",
  "next",
  "code",
  "state[]",
  "__proto__",
];
const queryArb = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 6 })),
      fc.oneof(
        fc.constantFrom(
          "",
          "0",
          "-1",
          "0.01",
          "1e400",
          "NaN",
          "99999999999999999999",
          "done",
          "%ff",
        ),
        fc.string({ maxLength: 20 }),
        hostileValue.map((v) => String(JSON.stringify(v)).slice(0, 100)),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => {
    // Some raw, unencoded, to reach the parsers as sent.
    const q = new URLSearchParams(pairs).toString();
    return q === "" ? "" : `?${q}`;
  });

const HEADER_NAMES = [
  "Content-Type",
  "Authorization",
  "Last-Event-ID",
  "If-None-Match",
  "Range",
  "Accept",
  "Cookie",
  "X-Script-Name",
  "X-Forwarded-Proto",
  "X-Forwarded-Host",
  "Origin",
];
const headerValue = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=latin1",
    "multipart/form-data; boundary=x",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "application/x-tar",
    "text/event-stream",
    "Bearer ",
    "Bearer a.b.c",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "Basic Zm9vOmJhcg==",
    "bytes=0-1",
    "bytes=-1",
    "bytes=99999999999999999999-",
    'W/"x"',
    "*",
    "odcs_csrf=; odcs_session=%ff",
    "99999999999999999999999",
    "-1",
    "../../x",
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
);
const headersArb = fc
  .array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs) as Record<string, string>);

const bodyArb = fc.option(
  fc.oneof(
    mutatedBody(fc.constant({ source: { type: "repo", source: "/srv/repos/a" } })),
    mutatedBody(fc.constant({ seconds_to_live: 60 })),
    fc.string({ maxLength: 200 }),
    fc.constantFrom("", "\uFEFF{}", "{", "[]", "null", "1e400", "-0", '"x"', "a=1&_csrf=x"),
  ),
  { nil: undefined },
);

describe("every route under fuzzed requests", () => {
  test.prop(
    [
      fc.constantFrom("GET", "GET", "HEAD", "POST", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"),
      pathArb,
      queryArb,
      headersArb,
      bodyArb,
    ],
    { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 10 * 60_000 },
  )(
    "no 5xx, ODCS errors under /api/, no write on a 4xx, no hang, no pollution",
    async (method, path, query, headers, body) => {
      await check(method, `${path}${query}`, headers, body);
    },
  );
});

afterAll(async () => {
  if (process.env.FUZZ_VERBOSE) console.log(Object.fromEntries([...seen].sort()));
  for (const status of [200, 400, 404, 405])
    expect(seen.get(status), `no ${status} seen`).toBeGreaterThan(0);
  // Valid requests still work after all of it.
  const created = await t.postJson("/api/1/composes/", {
    source: { type: "repo", source: "/srv/repos/after" },
  });
  expect(created.status).toBe(200);
  expect((await t.request("/api/1/composes/1")).status).toBe(200);
});
