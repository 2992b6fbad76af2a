/**
 * Hostile Authorization headers under the `openidc` backend, against a real
 * OpenID Provider (test/helpers/oidc-provider.ts) and the real app: garbage
 * after "Bearer", huge tokens, `alg: none`, HS256 signed with the
 * provider's public key, tokens for another audience, unknown key ids,
 * `jku`/`crit` headers, tampered and truncated real tokens, and a
 * fast-check fuzzer mutating a real token. Every write route answers 401
 * (ODCS error JSON), never a 5xx, writes nothing, and the JWKS endpoint is
 * not hammered by unknown key ids; a valid token still works.
 */
import { fc, test } from "@fast-check/vitest";
import { asc } from "drizzle-orm";
import { base64url, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { createAuthenticator } from "../../src/api/auth.ts";
import { composes, events, jobs, uploads } from "../../src/db/schema.ts";
import { givenCompose } from "../helpers/given.ts";
import { startOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.ts";
import { testApp, testConfig } from "../helpers/test-app.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const AUDIENCE = "https://odcs.test/api";

let op: TestOidcProvider;
let t: Awaited<ReturnType<typeof testApp>>;
let good: string;
let otherAudience: string;

const enc = (o: unknown) => base64url.encode(JSON.stringify(o));

beforeAll(async () => {
  op = await startOidcProvider({
    clients: [{ id: "alice", claims: { preferred_username: "alice", groups: [] } }],
    audience: AUDIENCE,
  });
  good = await op.token("alice");
  otherAudience = await op.token("alice", { resource: "https://elsewhere.test" });
  const settings = {
    ODCS_AUTH_BACKEND: "openidc",
    ODCS_OIDC_ISSUER: op.issuer,
    ODCS_OIDC_AUDIENCE: op.audience,
    ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
    ODCS_ALLOWED_CLIENTS: { users: { alice: {} }, groups: {} },
  };
  t = await testApp({
    config: settings,
    deps: { auth: createAuthenticator(testConfig(settings)) },
  });
  await givenCompose(t.db, { state: 2, owner: "alice" });
}, 60_000);
afterAll(() => op?.close());

async function snapshot(): Promise<string> {
  const [c, j, e, u] = await Promise.all([
    t.db.select().from(composes).orderBy(asc(composes.id)),
    t.db.select().from(jobs).orderBy(asc(jobs.id)),
    t.db.select().from(events).orderBy(asc(events.id)),
    t.db.select().from(uploads).orderBy(asc(uploads.id)),
  ]);
  return JSON.stringify([c, j, e, u]);
}

const WRITES: [string, string, string | undefined][] = [
  [
    "POST",
    "/api/1/composes/",
    JSON.stringify({ source: { type: "repo", source: "/srv/repos/a" } }),
  ],
  ["PATCH", "/api/1/composes/1", undefined],
  ["DELETE", "/api/1/composes/1", undefined],
  ["POST", "/api/1/uploads/", "x"],
];

/** Every write with this Authorization value: 401 in the ODCS shape, nothing written. */
async function refusedEverywhere(authorization: string) {
  for (const [method, path, body] of WRITES) {
    const before = await snapshot();
    const res = await t.request(path, {
      method,
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    const what = `${method} ${path} with ${authorization.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`;
    expect(res.status, what).toBe(401);
    expect(JSON.parse(text), what).toEqual({
      status: 401,
      error: "Unauthorized",
      message: expect.any(String),
    });
    expect(await snapshot(), what).toBe(before);
  }
}

describe("hostile tokens are a 401 on every write, nothing written", () => {
  test("garbage, huge, alg none, HS256 with the public key, other audience, unknown kid, jku, crit", async () => {
    const [h = "", p = "", s = ""] = good.split(".");
    const claims = decodeJwt(good);
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(h))) as Record<
      string,
      unknown
    >;
    const stranger = await generateKeyPair("RS256");
    const signedBy = (hdr: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", ...hdr }).sign(stranger.privateKey);
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: header.kid as string })
      .sign(new TextEncoder().encode(op.signingKey().publicKeyPem));
    const cases = [
      "",
      "Bearer",
      "Bearer ",
      "Bearer  ",
      "bearer x",
      "Basic YWxpY2U6c2VjcmV0",
      "Bearer a.b.c",
      "Bearer ....",
      "Bearer %00",
      `Bearer ${"A".repeat(100_000)}`,
      `Bearer ${"a.".repeat(10_000)}a`,
      `Bearer ${enc({ alg: "none" })}.${p}.`,
      `Bearer ${enc({ alg: "none", kid: header.kid })}.${p}.`,
      `Bearer ${enc({ ...header, alg: "none" })}.${p}.${s}`,
      `Bearer ${hs256}`,
      `Bearer ${otherAudience}`,
      `Bearer ${await signedBy({ kid: "no-such-key" })}`,
      `Bearer ${await signedBy({ kid: header.kid as string })}`,
      `Bearer ${await signedBy({ kid: "x", jku: "http://127.0.0.1:9/keys", jwk: await exportJWK(stranger.publicKey) })}`,
      `Bearer ${enc({ ...header, crit: ["exp"] })}.${p}.${s}`,
      `Bearer ${h}.${enc({ ...claims, preferred_username: "root" })}.${s}`,
      `Bearer ${h}.${p}`,
      `Bearer ${h}.${p}.${s}.${s}`,
      `Bearer ${good.slice(0, -5)}`,
      `Bearer ${good} extra`,
      `Bearer ${enc("not an object")}.${p}.${s}`,
      `Bearer ${enc({ alg: "RS256", kid: { $ne: 1 } })}.${p}.${s}`,
      `Bearer ${h}.${enc({ ...claims, exp: "never" })}.${s}`,
    ];
    for (const c of cases) await refusedEverywhere(c);
    // Unknown key ids made the app look for new keys at most once (cooldown).
    expect(op.hits("/jwks")).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe("fuzzed mutations of a real token", () => {
  test.prop(
    [
      fc.constantFrom("flip", "cut", "insert", "swap-segments", "case"),
      fc.nat(),
      fc.string({ minLength: 1, maxLength: 4 }),
    ],
    { seed: SEED, numRuns: RUNS },
  )("any change to a valid token is a 401", async (how, at, text) => {
    const i = at % good.length;
    let token = good;
    if (how === "flip") {
      const ch = good[i] === "A" ? "B" : "A";
      token = `${good.slice(0, i)}${ch}${good.slice(i + 1)}`;
    } else if (how === "cut") token = good.slice(0, i);
    else if (how === "insert") token = `${good.slice(0, i)}${text}${good.slice(i)}`;
    else if (how === "swap-segments") {
      const [a, b, c] = good.split(".");
      token = `${b}.${a}.${c}`;
    } else token = good.toUpperCase();
    // base64url decodes some flips of the signature's last character to the same bytes.
    fc.pre(token !== good && !(how === "flip" && i === good.length - 1));
    await refusedEverywhere(`Bearer ${token}`);
  });
});

describe("a valid token still works", () => {
  test("POST with it is a 200", async () => {
    const res = await t.postJson(
      "/api/1/composes/",
      { source: { type: "repo", source: "/srv/repos/a" } },
      { Authorization: `Bearer ${good}` },
    );
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
