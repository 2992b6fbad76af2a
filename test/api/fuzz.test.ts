/**
 * Issue 18 item 5: property-based fuzzing of the writing and waiting routes.
 * Requests are generated from the service's own OpenAPI document (the zod
 * request schemas rendered) and then mutated (test/helpers/schema-arbitrary.ts):
 * whatever comes in, the answer is never a 5xx, a 4xx writes no row and no
 * event, and every request is answered within a bound (no hang).
 *
 * CI runs a fixed seed; `npm run soak:fuzz` runs long with a fresh one
 * (FUZZ_SEED, FUZZ_RUNS). A failure prints the seed and the shrunk request.
 */
import { fc, test } from "@fast-check/vitest";
import { asc } from "drizzle-orm";
import { beforeAll, describe, expect } from "vitest";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { givenCompose } from "../helpers/given.ts";
import {
  fromSchema,
  hostileValue,
  type JsonSchema,
  mutatedBody,
  type OpenApiDoc,
} from "../helpers/schema-arbitrary.ts";
import { testApp } from "../helpers/test-app.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
fc.configureGlobal({ seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 10 * 60_000 });

/** Bound per request: none of these routes waits (waits are on settled composes). */
const ANSWER_WITHIN_MS = 10_000;

type App = Awaited<ReturnType<typeof testApp>>;
let t: App;
let doc: OpenApiDoc;

beforeAll(async () => {
  t = await testApp({
    config: {
      ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
      ODCS_ALLOWED_REPO_URLS: "https://mirror.example.org/repos",
      ODCS_MAX_BODY_BYTES: String(256 * 1024),
    },
  });
  doc = (await (await t.request("/api/1/openapi.json")).json()) as OpenApiDoc;
  // One compose in each state, for renew, delete and wait to find.
  for (const state of [2, 4, 3, 0, 2, 4]) await givenCompose(t.db, { state });
});

/** Everything a request could write, as text. */
async function snapshot(): Promise<string> {
  const [c, j, e] = await Promise.all([
    t.db.select().from(composes).orderBy(asc(composes.id)),
    t.db.select().from(jobs).orderBy(asc(jobs.id)),
    t.db.select().from(events).orderBy(asc(events.id)),
  ]);
  return JSON.stringify([c, j, e]);
}

/** The request, bounded; the property every answer must have. */
async function check(path: string, init: RequestInit = {}): Promise<void> {
  const before = await snapshot();
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    t.request(path, init),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)),
        ANSWER_WITHIN_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  const text = await res.text();
  const what = `${init.method ?? "GET"} ${path} ${String(init.body ?? "").slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 400) {
    const body = JSON.parse(text) as { status: number; error: string; message: string };
    expect(body.status, what).toBe(res.status);
    expect(typeof body.message, what).toBe("string");
    expect(await snapshot(), `${what} wrote something`).toBe(before);
  }
}

const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` }) as JsonSchema;
/** A compose id as a path segment: real ones, and everything else. */
const idSegment = fc.oneof(
  fc.integer({ min: 1, max: 8 }).map(String),
  fc.constantFrom("0", "-1", "1e3", "9".repeat(30), "0x10", "1.5", "%20", "abc", "1;2", "ｱ"),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("", "-1", "0", "1e309", "99999999999999999999", "done", "-id", "\u0000", "🎉"),
  hostileValue.map((v) => String(JSON.stringify(v)).slice(0, 200)),
);

describe("fuzzed requests never 5xx, never write on a 4xx, never hang", () => {
  test.prop([
    mutatedBody(fc.constant(null).chain(() => fromSchema(schema("CreateComposeBody"), doc))),
  ])("POST /api/1/composes/", async (body) => {
    await check("/api/1/composes/", {
      method: "POST",
      body,
      headers: { "Content-Type": "application/json" },
    });
  });

  test.prop([
    idSegment,
    mutatedBody(fc.constant(null).chain(() => fromSchema(schema("RenewComposeBody"), doc))),
  ])("PATCH /api/1/composes/{id}", async (id, body) => {
    await check(`/api/1/composes/${id}`, { method: "PATCH", body });
  });

  test.prop([idSegment, fc.option(fc.string({ maxLength: 20 }), { nil: undefined })])(
    "DELETE /api/1/composes/{id}",
    async (id, body) => {
      await check(`/api/1/composes/${id}`, {
        method: "DELETE",
        ...(body === undefined ? {} : { body }),
      });
    },
  );

  const LIST_PARAMS = [
    "owner",
    "source_type",
    "source",
    "state",
    "koji_task_id",
    "pungi_compose_id",
    "compose_type",
    "label",
    "order_by",
    "page",
    "per_page",
    "unknown_param",
  ];
  test.prop([fc.array(fc.tuple(fc.constantFrom(...LIST_PARAMS), queryValue), { maxLength: 5 })])(
    "GET /api/1/composes/ with fuzzed query",
    async (params) => {
      const q = new URLSearchParams(params).toString();
      await check(`/api/1/composes/?${q}`);
    },
  );

  test.prop([
    // Settled composes only: any wait on them ends at once, so a slow answer is a hang.
    fc.constantFrom("1", "2", "3", "5", "6", ...["0", "99999", "-1", "x"]),
    fc.option(queryValue, { nil: undefined }),
    fc.option(
      fc.oneof(
        queryValue,
        fc.subarray(["wait", "generating", "done", "removed", "failed"]).map((s) => s.join(",")),
      ),
      { nil: undefined },
    ),
  ])("GET /api/1/composes/{id}/wait with fuzzed state and timeout", async (id, timeout, state) => {
    const q = new URLSearchParams();
    if (timeout !== undefined) q.set("timeout", timeout);
    if (state !== undefined) q.set("state", state);
    await check(`/api/1/composes/${id}/wait?${q}`);
  });
});
