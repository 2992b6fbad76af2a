import { base64url, decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type AuthenticatorOptions,
  createAuthenticator,
  DISCOVERY_RETRY_MS,
} from "../../src/api/auth.ts";
import { loadConfig } from "../../src/config.ts";
import { ForbiddenError, UnauthorizedError } from "../../src/domain/errors.ts";
import type { Identity } from "../../src/domain/identity.ts";
import {
  checkComposePermissions,
  requireAdmin,
  requireAllowedClient,
  requireScope,
} from "../../src/domain/permissions.ts";
import {
  ODCS_SCOPES,
  startOidcProvider,
  type TestClientSpec,
  type TestOidcProvider,
  TOKEN_TTL_SECONDS,
} from "../helpers/oidc-provider.ts";

const NEW_COMPOSE = "https://pagure.io/odcs/new-compose";
const SKEW_SECONDS = 30;

const CLIENTS: TestClientSpec[] = [
  { id: "alice", claims: { preferred_username: "alice", groups: ["packagers"] } },
  { id: "bob", claims: { preferred_username: "bob", groups: "devs qa" } },
  { id: "carol", claims: { preferred_username: "carol", groups: ["outsiders"] } },
  { id: "root", claims: { preferred_username: "root", groups: [] } },
  { id: "svc-ci", claims: { groups: ["ci"] } },
  { id: "azure", claims: { preferred_username: "azure", scp: [NEW_COMPOSE] } },
  { id: "bad-groups", claims: { preferred_username: "x", groups: [1, 2] } },
  {
    id: "future",
    claims: { preferred_username: "future", nbf: Math.floor(Date.now() / 1000) + 3600 },
  },
];

let op: TestOidcProvider;
beforeAll(async () => {
  op = await startOidcProvider({ clients: CLIENTS });
});
afterAll(() => op.close());

function configFor(provider: TestOidcProvider, extra: Record<string, unknown> = {}) {
  return loadConfig(
    {},
    {
      ODCS_AUTH_BACKEND: "openidc",
      ODCS_OIDC_ISSUER: provider.issuer,
      ODCS_OIDC_AUDIENCE: provider.audience,
      ODCS_OIDC_CLOCK_SKEW_SECONDS: SKEW_SECONDS,
      ODCS_ALLOWED_CLIENTS: {
        users: { alice: {}, root: { source_types: [] } },
        groups: { devs: { source_types: ["module"] } },
      },
      ODCS_ADMINS: { users: ["root"], groups: [] },
      ...extra,
    },
  );
}

/** A fetch that records every URL it is asked for. */
function countingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    },
  };
}

function authFor(extra: Record<string, unknown> = {}, opts: AuthenticatorOptions = {}) {
  return createAuthenticator(configFor(op, extra), opts);
}

const bearer = (token: string) => `Bearer ${token}`;
const clockAt = (secondsFromNow: number) => () => new Date(Date.now() + secondsFromNow * 1000);

/** The message of the `UnauthorizedError` the promise rejects with; fails on anything else. */
async function unauthorized(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UnauthorizedError) return err.message;
    throw err;
  }
  throw new Error("expected an UnauthorizedError, but authentication succeeded");
}

/** Re-sign nothing: swap the payload of a real token, keeping its header and signature. */
function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split(".");
  return `${header}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}

describe("noauth", () => {
  test("every request is anonymous", async () => {
    const auth = createAuthenticator(loadConfig({}));
    expect(auth.backend).toBe("noauth");
    expect(await auth.authenticate(undefined)).toBeNull();
    expect(await auth.authenticate("Bearer whatever")).toBeNull();
  });
});

describe("openidc: valid tokens", () => {
  test("a real access token gives username, groups and scopes", async () => {
    const auth = authFor();
    expect(auth.backend).toBe("openidc");
    const identity = await auth.authenticate(bearer(await op.token("alice")));
    expect(identity).toEqual({ username: "alice", groups: ["packagers"], scopes: ODCS_SCOPES });
  });

  test("a space-separated groups claim is split", async () => {
    const identity = await authFor().authenticate(bearer(await op.token("bob")));
    expect(identity?.groups).toEqual(["devs", "qa"]);
  });

  test("the scp list is read when there is no scope claim", async () => {
    const token = await op.token("azure", { scope: [] });
    expect(decodeJwt(token).scope).toBeUndefined();
    expect((await authFor().authenticate(bearer(token)))?.scopes).toEqual([NEW_COMPOSE]);
  });

  test("the scheme is case-insensitive and whitespace around the token is ignored", async () => {
    const token = await op.token("alice");
    expect((await authFor().authenticate(`bearer   ${token}  `))?.username).toBe("alice");
  });

  test("ODCS_OIDC_USERNAME_CLAIM picks the claim; there is no silent fallback to sub", async () => {
    const token = await op.token("svc-ci");
    expect(await unauthorized(authFor().authenticate(bearer(token)))).toBe(
      'Token has no "preferred_username" claim',
    );
    const bySub = authFor({ ODCS_OIDC_USERNAME_CLAIM: "sub" });
    expect(await bySub.authenticate(bearer(token))).toEqual({
      username: "svc-ci",
      groups: ["ci"],
      scopes: ODCS_SCOPES,
    });
  });

  test("ODCS_OIDC_GROUPS_CLAIM picks the groups claim", async () => {
    const auth = authFor({ ODCS_OIDC_GROUPS_CLAIM: "client_id" });
    expect((await auth.authenticate(bearer(await op.token("alice"))))?.groups).toEqual(["alice"]);
  });

  test("a groups claim that is not names is refused", async () => {
    expect(await unauthorized(authFor().authenticate(bearer(await op.token("bad-groups"))))).toBe(
      'Token claim "groups" must be a list of strings or a space-separated string',
    );
  });
});

describe("openidc: refused credentials", () => {
  test.each([
    [undefined, "Missing token passed to ODCS."],
    ["", "Missing token passed to ODCS."],
    ["Bearer", "Missing token passed to ODCS."],
    ["Bearer   ", "Missing token passed to ODCS."],
    [
      "Basic YWxpY2U6cHc=",
      "Unsupported authorization scheme Basic: send 'Authorization: Bearer <token>'",
    ],
    ["Bearer a b", "Malformed Authorization header: expected 'Bearer <token>'"],
  ])("Authorization %j", async (header, message) => {
    expect(await unauthorized(authFor().authenticate(header))).toBe(message);
  });

  test("a token that is not a JWT", async () => {
    expect(await unauthorized(authFor().authenticate("Bearer not-a-jwt"))).toMatch(
      /^Token is malformed: /,
    );
  });

  test("expired: past exp plus the clock skew", async () => {
    const token = await op.token("alice");
    const late = authFor({}, { clock: clockAt(TOKEN_TTL_SECONDS + SKEW_SECONDS + 5) });
    expect(await unauthorized(late.authenticate(bearer(token)))).toBe("Token has expired");
  });

  test("within the clock skew after exp the token is still accepted", async () => {
    const token = await op.token("alice");
    const slightlyLate = authFor({}, { clock: clockAt(TOKEN_TTL_SECONDS + SKEW_SECONDS - 10) });
    expect((await slightlyLate.authenticate(bearer(token)))?.username).toBe("alice");
  });

  test("not yet valid: issued in the future of our clock", async () => {
    const token = await op.token("alice");
    const early = authFor({}, { clock: clockAt(-(SKEW_SECONDS + 60)) });
    expect(await unauthorized(early.authenticate(bearer(token)))).toBe("Token is not yet valid");
  });

  test("not yet valid: nbf in the future", async () => {
    const token = await op.token("future");
    expect(await unauthorized(authFor().authenticate(bearer(token)))).toBe(
      "Token is not yet valid",
    );
  });

  test("wrong issuer: same keys, another issuer", async () => {
    const other = await startOidcProvider({ clients: CLIENTS, keys: op.keys() });
    try {
      const token = await other.token("alice");
      expect(decodeProtectedHeader(token).kid).toBe(op.signingKey().kid);
      expect(await unauthorized(authFor().authenticate(bearer(token)))).toBe(
        `Token was not issued by ${op.issuer}`,
      );
    } finally {
      await other.close();
    }
  });

  test("wrong audience", async () => {
    const token = await op.token("alice", { resource: "https://elsewhere.test/api" });
    expect(await unauthorized(authFor().authenticate(bearer(token)))).toBe(
      `Token audience does not include ${op.audience}`,
    );
  });

  test("tampered payload keeps the signature of the original", async () => {
    const token = await op.token("carol");
    const forged = withPayload(token, { ...decodeJwt(token), preferred_username: "root" });
    expect(await unauthorized(authFor().authenticate(bearer(forged)))).toBe(
      "Token signature is invalid",
    );
  });

  test('alg "none" is refused', async () => {
    const token = await op.token("alice");
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "at+jwt" }));
    const payload = token.split(".")[1];
    const unsigned = `${header}.${payload}.`;
    expect(await unauthorized(authFor().authenticate(bearer(unsigned)))).toBe(
      "Token signing algorithm none is not allowed",
    );
  });

  test("HS256 signed with the issuer's public key as the secret is refused", async () => {
    const claims = decodeJwt(await op.token("alice"));
    const key = op.signingKey();
    const forged = await new SignJWT({ ...claims, preferred_username: "root" })
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .sign(new TextEncoder().encode(key.publicKeyPem));
    expect(await unauthorized(authFor().authenticate(bearer(forged)))).toBe(
      "Token signing algorithm HS256 is not allowed",
    );
  });

  test("an algorithm outside ODCS_OIDC_ALGORITHMS is refused", async () => {
    const auth = authFor({ ODCS_OIDC_ALGORITHMS: ["ES256"] });
    expect(await unauthorized(auth.authenticate(bearer(await op.token("alice"))))).toBe(
      "Token signing algorithm RS256 is not allowed",
    );
  });

  test.each([["HS256"], ["none"], ["hs512"]])(
    "ODCS_OIDC_ALGORITHMS containing %s is a start-up error",
    (alg) => {
      expect(() => authFor({ ODCS_OIDC_ALGORITHMS: ["RS256", alg] })).toThrow(
        `ODCS_OIDC_ALGORITHMS must not contain ${alg}`,
      );
    },
  );
});

describe("openidc: discovery and key set", () => {
  test("discovery and JWKS are fetched once for many requests", async () => {
    const counted = countingFetch();
    const auth = authFor({}, { fetch: counted.fetch });
    const tokens = await Promise.all(["alice", "bob", "root"].map((c) => op.token(c)));
    await Promise.all(tokens.map((t) => auth.authenticate(bearer(t))));
    for (const t of tokens) await auth.authenticate(bearer(t));
    expect(counted.urls).toEqual([
      `${op.issuer}/.well-known/openid-configuration`,
      `${op.issuer}/jwks`,
    ]);
  });

  test("ODCS_OIDC_JWKS_URI skips discovery", async () => {
    const counted = countingFetch();
    const auth = authFor({ ODCS_OIDC_JWKS_URI: `${op.issuer}/jwks` }, { fetch: counted.fetch });
    expect((await auth.authenticate(bearer(await op.token("alice"))))?.username).toBe("alice");
    expect(counted.urls).toEqual([`${op.issuer}/jwks`]);
  });

  test("a failed discovery fails fast, then is retried after the retry delay", async () => {
    let now = Date.now();
    let discoveryUp = false;
    const urls: string[] = [];
    const flaky: typeof fetch = (input, init) => {
      const url = String(input);
      urls.push(url);
      if (url.endsWith("/openid-configuration") && !discoveryUp) {
        return Promise.resolve(new Response("unavailable", { status: 503 }));
      }
      return fetch(input, init);
    };
    const auth = authFor({}, { fetch: flaky, clock: () => new Date(now) });
    const token = bearer(await op.token("alice"));
    const first = await auth.authenticate(token).catch((err: unknown) => err);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(UnauthorizedError);
    expect(String(first)).toContain("/.well-known/openid-configuration failed: HTTP 503");

    discoveryUp = true;
    now += DISCOVERY_RETRY_MS - 1;
    await expect(auth.authenticate(token)).rejects.toThrow("HTTP 503");
    expect(urls).toHaveLength(1);

    now += 1;
    expect((await auth.authenticate(token))?.username).toBe("alice");
    expect(urls).toHaveLength(3);
  });

  test("metadata naming another issuer is refused", async () => {
    const lying: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith("/openid-configuration")) return res;
      const meta = (await res.json()) as Record<string, unknown>;
      return Response.json({ ...meta, issuer: "https://evil.test" });
    };
    const auth = authFor({}, { fetch: lying });
    await expect(auth.authenticate(bearer(await op.token("alice")))).rejects.toThrow(
      "it names issuer https://evil.test",
    );
  });

  test("an unreachable key set is a server error, not a 401", async () => {
    const auth = authFor({ ODCS_OIDC_JWKS_URI: `${op.issuer}/no-such-jwks` });
    const err = await auth.authenticate(bearer(await op.token("alice"))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UnauthorizedError);
    expect(String(err)).toContain(`Could not get the signing keys of ${op.issuer}`);
  });
});

describe("openidc: key rotation", () => {
  test("a token with a new kid refetches the key set once, not per request", async () => {
    const rotating = await startOidcProvider({ clients: CLIENTS });
    try {
      const auth = createAuthenticator(configFor(rotating), { jwksCooldownMs: 0 });
      const oldToken = await rotating.token("alice");
      for (let i = 0; i < 3; i++) await auth.authenticate(bearer(oldToken));
      expect(rotating.hits("/jwks")).toBe(1);

      const newKid = await rotating.rotateKeys();
      const newToken = await rotating.token("alice");
      expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
      expect((await auth.authenticate(bearer(newToken)))?.username).toBe("alice");
      expect(rotating.hits("/jwks")).toBe(2);

      for (let i = 0; i < 3; i++) {
        await auth.authenticate(bearer(newToken));
        await auth.authenticate(bearer(oldToken));
      }
      expect(rotating.hits("/jwks")).toBe(2);
      expect(rotating.hits("/.well-known/openid-configuration")).toBe(1);
    } finally {
      await rotating.close();
    }
  });

  test("unknown kids within the cooldown do not refetch the key set", async () => {
    const rotating = await startOidcProvider({ clients: CLIENTS });
    try {
      const auth = createAuthenticator(configFor(rotating));
      await auth.authenticate(bearer(await rotating.token("alice")));
      await rotating.rotateKeys();
      const newToken = bearer(await rotating.token("alice"));
      for (let i = 0; i < 5; i++) {
        expect(await unauthorized(auth.authenticate(newToken))).toBe(
          "Token signing key is not in the issuer's key set",
        );
      }
      expect(rotating.hits("/jwks")).toBe(1);
    } finally {
      await rotating.close();
    }
  });
});

describe("openidc tokens through the ODCS permission checks", () => {
  const config = () => configFor(op);
  const identityOf = async (client: string, scope?: string[]): Promise<Identity | null> =>
    authFor().authenticate(bearer(await op.token(client, scope ? { scope } : {})));
  const forbidden = (fn: () => void): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      if (err instanceof ForbiddenError) return err.message;
      throw err;
    }
  };
  const tagCompose = {
    source_type: "tag",
    sources: ["f40"],
    results: [],
    flags: [],
    arches: ["x86_64"],
    compose_type: "test",
    target_dir: null,
    raw_config_key: null,
  };

  test("a token granted only new-compose may create but not delete", async () => {
    const alice = await identityOf("alice", [NEW_COMPOSE]);
    expect(forbidden(() => requireScope(alice, "new-compose", config()))).toBeUndefined();
    expect(forbidden(() => requireScope(alice, "delete-compose", config()))).toBe(
      "Request does not have required scope delete-compose",
    );
  });

  test("a user outside allowed_clients is refused", async () => {
    const carol = await identityOf("carol");
    expect(forbidden(() => requireAllowedClient(carol, config()))).toBe(
      "User carol is not in role allowed_clients.",
    );
  });

  test("group-based permissions come from the token's groups", async () => {
    const bob = await identityOf("bob");
    expect(forbidden(() => requireAllowedClient(bob, config()))).toBeUndefined();
    expect(forbidden(() => checkComposePermissions(bob, tagCompose, config()))).toBe(
      "User bob not allowed to operate with compose with source_types=tag.",
    );
    const moduleCompose = { ...tagCompose, source_type: "module", sources: ["perl:5.30"] };
    expect(forbidden(() => checkComposePermissions(bob, moduleCompose, config()))).toBeUndefined();
  });

  test("an admin overrides the attribute check and may delete; others may not", async () => {
    const root = await identityOf("root");
    const alice = await identityOf("alice");
    const pulp = { ...tagCompose, source_type: "pulp" };
    expect(forbidden(() => checkComposePermissions(root, pulp, config()))).toBeUndefined();
    expect(forbidden(() => requireAdmin(root, config()))).toBeUndefined();
    expect(forbidden(() => checkComposePermissions(alice, pulp, config()))).toBe(
      "User alice not allowed to operate with compose with source_types=pulp.",
    );
    expect(forbidden(() => requireAdmin(alice, config()))).toBe(
      "User alice is not in role admins.",
    );
  });
});
