/**
 * The dashboard's form POSTs under hostile bodies: bounded by
 * ODCS_MAX_BODY_BYTES like the API (413 before the body is read whole,
 * declared or chunked), a malformed form is a 400 page and never a 500,
 * a missing or wrong CSRF token writes nothing, a `__proto__` field pollutes
 * nothing, and a fast-check fuzzer over the four forms finds no 5xx and no
 * write without a valid token.
 */
import { fc, test } from "@fast-check/vitest";
import { asc } from "drizzle-orm";
import { beforeAll, describe, expect } from "vitest";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { givenCompose } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const LIMIT = 4096;

type T = Awaited<ReturnType<typeof testApp>>;
let t: T;
/** An app with the dashboard login configured, for POST /logout (the issuer is never asked). */
let withLogin: T;
let csrf: string;

beforeAll(async () => {
  t = await testApp({
    config: { ODCS_MAX_BODY_BYTES: String(LIMIT), ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" },
  });
  await givenCompose(t.db, { state: 2 });
  withLogin = await testApp({
    config: {
      ODCS_MAX_BODY_BYTES: String(LIMIT),
      ODCS_AUTH_BACKEND: "openidc",
      ODCS_OIDC_ISSUER: "http://127.0.0.1:9/issuer",
      ODCS_OIDC_AUDIENCE: "odcs",
      ODCS_OIDC_CLIENT_ID: "dashboard",
      ODCS_DASHBOARD_SESSION_SECRET: "s".repeat(32),
    },
  });
  const res = await t.request("/ui/new");
  csrf = /odcs_csrf=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1] ?? "";
  expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

async function snapshot(): Promise<string> {
  const [c, j, e] = await Promise.all([
    t.db.select().from(composes).orderBy(asc(composes.id)),
    t.db.select().from(jobs).orderBy(asc(jobs.id)),
    t.db.select().from(events).orderBy(asc(events.id)),
  ]);
  return JSON.stringify([c, j, e]);
}

const FORMS = ["/ui/new", "/ui/composes/1/renew", "/ui/composes/1/delete", "/logout"];

/** POST, check: no 5xx; anything but a redirect (303) changed nothing. */
async function postForm(
  path: string,
  body: BodyInit | null,
  headers: Record<string, string>,
): Promise<Response> {
  const before = await snapshot();
  const app = path === "/logout" ? withLogin : t;
  const res = await app.request(path, {
    method: "POST",
    body,
    headers,
    redirect: "manual",
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  });
  const what = `POST ${path} ${JSON.stringify(headers)} → ${res.status}`;
  expect(res.status, what).toBeLessThan(500);
  await res.arrayBuffer();
  if (res.status !== 303) expect(await snapshot(), `${what} wrote something`).toBe(before);
  return res;
}

/** A body stream of `total` bytes in 1 KiB chunks that counts what was pulled. */
function countingStream(total: number) {
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (counter.pulled >= total) return ctl.close();
      const chunk = new TextEncoder().encode("a=".padEnd(1024, "x"));
      counter.pulled += chunk.length;
      ctl.enqueue(chunk);
    },
  });
  return { stream, counter };
}

describe("dashboard forms are bounded by ODCS_MAX_BODY_BYTES", () => {
  for (const path of FORMS) {
    test(`${path}: a declared oversize body is refused with 413`, async () => {
      const big = `_csrf=${csrf}&label=${"x".repeat(LIMIT)}`;
      const res = await postForm(path, big, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": String(big.length),
        Cookie: `odcs_csrf=${csrf}`,
      });
      expect(res.status).toBe(413);
    });

    test(`${path}: a chunked body is cut off once it passes the limit`, async () => {
      const { stream, counter } = countingStream(1024 * 1024);
      const res = await postForm(path, stream, {
        "Content-Type": "application/x-www-form-urlencoded",
        Cookie: `odcs_csrf=${csrf}`,
      });
      expect(res.status).toBe(413);
      expect(counter.pulled).toBeLessThan(LIMIT + 4 * 1024);
    });
  }
});

describe("malformed forms are a 400 page, never a 500", () => {
  for (const path of FORMS) {
    test.each([
      ["a boundary the body does not use", "multipart/form-data; boundary=abc", "garbage"],
      ["no boundary", "multipart/form-data", "--x\r\n\r\n"],
      [
        "an unterminated part",
        "multipart/form-data; boundary=b",
        '--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nabc',
      ],
    ])(`${path}: %s`, async (_, type, body) => {
      const res = await postForm(path, body, { "Content-Type": type, Cookie: `odcs_csrf=${csrf}` });
      expect(res.status).toBe(400);
    });
  }
});

describe("a __proto__ field is a field like any other", () => {
  test("no pollution, CSRF still checked", async () => {
    const body = `__proto__[polluted]=1&__proto__=x&constructor[prototype][polluted]=1&_csrf=${csrf}&source_type=repo&source=/srv/repos/a`;
    const res = await postForm("/ui/new", body, {
      "Content-Type": "application/x-www-form-urlencoded",
      Cookie: `odcs_csrf=${csrf}`,
    });
    expect(res.status).toBe(303);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

const fieldArb = fc.tuple(
  fc.oneof(
    fc.constantFrom(
      "_csrf",
      "source_type",
      "source",
      "packages",
      "builds",
      "arches",
      "flags",
      "flag_no_deps",
      "label",
      "seconds_to_live",
      "__proto__",
      "constructor",
    ),
    fc.string({ maxLength: 10 }),
  ),
  fc.oneof(
    fc.constantFrom("repo", "tag", "/srv/repos/a", "on", "-1", "1e400", "99999999999999999999", ""),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
  ),
);

describe("fuzzed dashboard forms", () => {
  test.prop(
    [
      fc.constantFrom(...FORMS, "/ui/composes/999/renew", "/ui/composes/x/delete"),
      fc.array(fieldArb, { maxLength: 8 }),
      fc.constantFrom("valid", "missing", "wrong", "cookie-only"),
      fc.constantFrom("urlencoded", "multipart", "text", "none"),
    ],
    { seed: SEED, numRuns: RUNS },
  )("never a 5xx; without a valid token nothing is written", async (path, fields, token, enc) => {
    const all: [string, string][] = [...fields];
    if (token === "valid" || token === "cookie-only") all.push(["_csrf", csrf]);
    if (token === "wrong")
      all.push(["_csrf", csrf.replace(/^./, (ch) => (ch === "A" ? "B" : "A"))]);
    const headers: Record<string, string> = {};
    if (token !== "missing") headers.Cookie = `odcs_csrf=${csrf}`;
    let body: BodyInit | null = null;
    if (enc === "urlencoded") {
      body = new URLSearchParams(all).toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (enc === "multipart") {
      const fd = new FormData();
      for (const [k, v] of all) fd.append(k, v);
      body = fd;
    } else if (enc === "text") {
      body = all.map(([k, v]) => `${k}=${v}`).join("\n");
      headers["Content-Type"] = "text/plain";
    }
    const before = await snapshot();
    const res = await postForm(path, body, headers);
    const validToken = token === "valid" || token === "cookie-only";
    const lastCsrf = all.filter(([k]) => k === "_csrf").at(-1)?.[1];
    if (!validToken || lastCsrf !== csrf || enc === "text" || enc === "none") {
      expect(res.status, `${path} ${token} ${enc}`).not.toBe(303);
      expect(await snapshot()).toBe(before);
    }
  });
});
