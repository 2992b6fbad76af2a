import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAuthenticator } from "../../src/api/auth.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { CSRF_COOKIE, CSRF_FIELD } from "../../src/dashboard/csrf.ts";
import {
  createDashboardLogin,
  type DashboardLoginDeps,
  LOGIN_COOKIE,
  SESSION_COOKIE,
} from "../../src/dashboard/login/login.ts";
import { codeChallenge } from "../../src/dashboard/login/oidc-client.ts";
import { cookieSealer } from "../../src/dashboard/login/session.ts";
import { fakeClock } from "../helpers/clock.ts";
import { ODCS_SCOPES, startOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.ts";
import { freePort } from "../helpers/service.ts";
import { testConfig } from "../helpers/test-app.ts";

/**
 * The dashboard login against a real OpenID Provider: the browser's part is
 * played by `browserLogin` (the provider's own login and consent forms), the
 * dashboard's by the login routes in a bare Hono app with a probe route that
 * shows the session. Every failure must end on a page that says what went
 * wrong, with no session cookie set.
 */

const SITE = "http://odcs.test";
const AUDIENCE = "https://odcs.test/api";
const SECRET = "s".repeat(40);
const USERS = {
  alice: { preferred_username: "alice", name: "Alice Liddell", groups: ["packagers"] },
  "no-name": { groups: ["packagers"] },
  crowd: {
    preferred_username: "crowd",
    groups: [...Array.from({ length: 300 }, (_, i) => `some-long-group-name-${i}`), "packagers"],
  },
};

let op: TestOidcProvider;
beforeAll(async () => {
  op = await startOidcProvider({
    clients: [{ id: "alice-cli", claims: USERS.alice }],
    audience: AUDIENCE,
    webClients: [
      { id: "dashboard", redirectUris: [`${SITE}/login/callback`] },
      {
        id: "dashboard-confidential",
        redirectUris: [`${SITE}/login/callback`],
        confidential: true,
      },
    ],
    users: USERS,
  });
});
afterAll(() => op.close());

function setup(settings: Record<string, unknown> = {}) {
  const config = testConfig({
    ODCS_AUTH_BACKEND: "openidc",
    ODCS_OIDC_ISSUER: op.issuer,
    ODCS_OIDC_AUDIENCE: AUDIENCE,
    ODCS_OIDC_CLIENT_ID: "dashboard",
    ODCS_DASHBOARD_SESSION_SECRET: SECRET,
    ...settings,
  });
  const clock = fakeClock(new Date());
  const deps: DashboardLoginDeps = {
    config,
    clock,
    log: silentLogger,
    auth: createAuthenticator(config, { clock: () => clock.now() }),
  };
  const login = createDashboardLogin(deps);
  const app = new Hono();
  app.route("/", login.routes);
  app.get("/whoami", async (c) => c.json(await login.session(c)));
  const jar = new Map<string, string>();
  /** A request from the browser: its cookies, and it keeps what the answer sets. */
  const browse = async (path: string, init: RequestInit = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await app.request(new URL(path, SITE).href, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), cookie },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value === "" || /Max-Age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const whoami = async () => (await browse("/whoami")).json();
  /** GET /login, then the provider's pages; the callback URL the browser lands on. */
  const toCallback = async (user = "alice", next?: string) => {
    const res = await browse(
      next === undefined ? "/login" : `/login?next=${encodeURIComponent(next)}`,
    );
    expect(res.status).toBe(302);
    return op.browserLogin(res.headers.get("location") ?? "", user);
  };
  return { app, clock, jar, browse, whoami, toCallback, config, login };
}

async function bodyOf(res: Response): Promise<string> {
  return (await res.text())
    .replace(/\s+/g, " ")
    .replaceAll("&#39;", "'")
    .replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&");
}

describe("a login that works", () => {
  test("the user gets the identity the API gives their token, and lands on `next`", async () => {
    const b = setup();
    expect(await b.whoami()).toBeNull();
    const callback = await b.toCallback("alice", "/composes/7?x=1");
    expect(callback).toMatch(new RegExp(`^${SITE}/login/callback\\?code=`));
    const res = await b.browse(callback);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/composes/7?x=1");
    const session = await b.whoami();
    const apiIdentity = await createAuthenticator(b.config).authenticate(
      `Bearer ${await op.token("alice-cli")}`,
    );
    expect(session.identity).toEqual(apiIdentity);
    expect(session.identity).toEqual({
      username: "alice",
      groups: ["packagers"],
      scopes: ODCS_SCOPES,
    });
    expect(b.jar.has(LOGIN_COOKIE)).toBe(false);
  });

  test("the authorization request uses PKCE S256, state and nonce, and the default scopes", async () => {
    const b = setup();
    const res = await b.browse("/login");
    const url = new URL(res.headers.get("location") ?? "");
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      response_type: "code",
      client_id: "dashboard",
      redirect_uri: `${SITE}/login/callback`,
      code_challenge_method: "S256",
      scope: ["openid", "profile", ...ODCS_SCOPES].join(" "),
    });
    expect(q.state).toMatch(/^[\w-]{43}$/);
    expect(q.nonce).toMatch(/^[\w-]{43}$/);
    expect(q.code_challenge).toMatch(/^[\w-]{43}$/);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${LOGIN_COOKIE}=`)) ?? "";
    expect(cookie).toMatch(/; Max-Age=600/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    // The pending login is encrypted: neither state nor verifier can be read from it.
    expect(cookie).not.toContain(q.state);
  });

  test("the session cookie is HttpOnly, SameSite=Lax, and Secure when the site is https", async () => {
    const plain = setup();
    const res = await plain.browse(await plain.toCallback());
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? "";
    expect(cookie).toMatch(/; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/);

    const tls = setup({ ODCS_TRUST_PROXY: true });
    const login = await tls.browse("/login", { headers: { "x-forwarded-proto": "https" } });
    const authorize = new URL(login.headers.get("location") ?? "");
    expect(authorize.searchParams.get("redirect_uri")).toBe("https://odcs.test/login/callback");
    expect(login.headers.getSetCookie().join()).toMatch(/; Secure/);
  });

  test("a user in hundreds of groups keeps the groups the permissions look at", async () => {
    const b = setup({
      ODCS_ALLOWED_CLIENTS: { users: {}, groups: { packagers: {} } },
      ODCS_ADMINS: { users: [], groups: ["some-long-group-name-7"] },
    });
    const res = await b.browse(await b.toCallback("crowd"));
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? "";
    expect(cookie.length).toBeLessThan(4000);
    expect((await b.whoami()).identity.groups).toEqual(["some-long-group-name-7", "packagers"]);
  });

  test("a confidential client logs in with its secret", async () => {
    const b = setup({
      ODCS_OIDC_CLIENT_ID: "dashboard-confidential",
      ODCS_OIDC_CLIENT_SECRET: "secret-of-dashboard-confidential",
      ODCS_DASHBOARD_SESSION_SECRET: undefined,
    });
    expect((await b.browse(await b.toCallback())).status).toBe(303);
    expect((await b.whoami()).identity.username).toBe("alice");
  });

  test("a login cookie is good for one callback: replaying it does not log in again", async () => {
    const b = setup();
    const callback = await b.toCallback();
    const pending = b.jar.get(LOGIN_COOKIE) ?? "";
    expect((await b.browse(callback)).status).toBe(303);
    b.jar.clear();
    b.jar.set(LOGIN_COOKIE, pending);
    const replay = await b.browse(callback);
    expect(replay.status).toBe(400);
    expect(await bodyOf(replay)).toContain(
      "The identity provider refused the login code: invalid_grant",
    );
    expect(await b.whoami()).toBeNull();
  });

  test("the session ends after ODCS_DASHBOARD_SESSION_SECONDS by the injected clock", async () => {
    const b = setup({ ODCS_DASHBOARD_SESSION_SECONDS: 3600 });
    await b.browse(await b.toCallback());
    b.clock.advance(3599_000);
    expect((await b.whoami()).identity.username).toBe("alice");
    b.clock.advance(2_000);
    expect(await b.whoami()).toBeNull();
  });
});

describe("a login that fails ends on a clear page, without a session", () => {
  const refused = async (
    b: ReturnType<typeof setup>,
    res: Response,
    status: number,
    text: string,
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const body = await bodyOf(res);
    expect(body).toContain(text);
    expect(body).toContain('<a href="/login">Log in again</a>');
    expect(res.headers.getSetCookie().join()).not.toContain(`${SESSION_COOKIE}=`);
    expect(await b.whoami()).toBeNull();
  };

  test("state mismatch", async () => {
    const b = setup();
    const callback = new URL(await b.toCallback());
    callback.searchParams.set("state", "forged");
    await refused(b, await b.browse(callback.href), 400, "(state mismatch)");
  });

  test("the answer names another issuer (RFC 9207)", async () => {
    const b = setup();
    const callback = new URL(await b.toCallback());
    expect(callback.searchParams.get("iss")).toBe(op.issuer);
    callback.searchParams.set("iss", "https://evil.example");
    await refused(
      b,
      await b.browse(callback.href),
      400,
      "The answer comes from issuer https://evil.example",
    );
  });

  test("the API cannot reach the keys to check the access token (502)", async () => {
    const port = await freePort();
    const b = setup({ ODCS_OIDC_JWKS_URI: `http://127.0.0.1:${port}/jwks` });
    await refused(
      b,
      await b.browse(await b.toCallback()),
      502,
      `The API could not check the access token: Could not get the signing keys of ${op.issuer}`,
    );
  });

  test("no login cookie (another browser, or cookies off)", async () => {
    const b = setup();
    const callback = await b.toCallback();
    b.jar.delete(LOGIN_COOKIE);
    await refused(b, await b.browse(callback), 400, "No login was started in this browser");
  });

  test("the login took longer than 10 minutes", async () => {
    const b = setup();
    const callback = await b.toCallback();
    b.clock.advance(601_000);
    await refused(
      b,
      await b.browse(callback),
      400,
      "This login has expired or its cookie was altered",
    );
  });

  test("a tampered login cookie", async () => {
    const b = setup();
    const callback = await b.toCallback();
    const cookie = b.jar.get(LOGIN_COOKIE) ?? "";
    const i = cookie.length - 30;
    b.jar.set(
      LOGIN_COOKIE,
      `${cookie.slice(0, i)}${cookie[i] === "A" ? "B" : "A"}${cookie.slice(i + 1)}`,
    );
    await refused(
      b,
      await b.browse(callback),
      400,
      "This login has expired or its cookie was altered",
    );
  });

  test("the ID token carries another login's nonce", async () => {
    const b = setup();
    const started = await b.browse("/login");
    const authorize = new URL(started.headers.get("location") ?? "");
    const verifier = "v".repeat(50);
    authorize.searchParams.set("state", "S");
    authorize.searchParams.set("nonce", "nonce-of-the-provider");
    authorize.searchParams.set("code_challenge", await codeChallenge(verifier));
    const forged = await cookieSealer(SECRET, "login").seal(
      {
        state: "S",
        nonce: "nonce-in-cookie",
        verifier,
        next: "/",
        redirectUri: `${SITE}/login/callback`,
      },
      600,
      b.clock.now(),
    );
    b.jar.set(LOGIN_COOKIE, forged);
    const callback = await op.browserLogin(authorize.href, "alice");
    await refused(b, await b.browse(callback), 400, "The ID token's nonce is not this login's");
  });

  test("a PKCE verifier that does not match the challenge", async () => {
    const b = setup();
    const callback = new URL(await b.toCallback());
    const forged = await cookieSealer(SECRET, "login").seal(
      {
        state: callback.searchParams.get("state"),
        nonce: "n",
        verifier: "w".repeat(50),
        next: "/",
        redirectUri: `${SITE}/login/callback`,
      },
      600,
      b.clock.now(),
    );
    b.jar.set(LOGIN_COOKIE, forged);
    await refused(b, await b.browse(callback.href), 400, "refused the login code: invalid_grant");
  });

  test("the user aborts at the provider", async () => {
    const b = setup();
    const started = await b.browse("/login");
    const authorize = new URL(started.headers.get("location") ?? "");
    authorize.searchParams.set("prompt", "none");
    const callback = await op.browserLogin(authorize.href, "alice");
    expect(new URL(callback).searchParams.get("error")).toBe("login_required");
    await refused(
      b,
      await b.browse(callback),
      400,
      "The identity provider did not log you in: login_required",
    );
  });

  test("the API would refuse the user's token (no username claim)", async () => {
    const b = setup();
    await refused(
      b,
      await b.browse(await b.toCallback("no-name")),
      400,
      'the API does not accept the access token it issued: Token has no "preferred_username" claim',
    );
  });

  test("the API would refuse the user's token (another audience)", async () => {
    const b = setup({ ODCS_OIDC_AUDIENCE: "https://elsewhere.test" });
    await refused(
      b,
      await b.browse(await b.toCallback()),
      400,
      "Token audience does not include https://elsewhere.test",
    );
  });

  test("a code the provider issued to another client", async () => {
    // The provider issues to "dashboard"; this site is "dashboard-confidential".
    const b = setup({
      ODCS_OIDC_CLIENT_ID: "dashboard-confidential",
      ODCS_OIDC_CLIENT_SECRET: "secret-of-dashboard-confidential",
    });
    const started = await b.browse("/login");
    const authorize = new URL(started.headers.get("location") ?? "");
    authorize.searchParams.set("client_id", "dashboard");
    const res = await b.browse(await op.browserLogin(authorize.href, "alice"));
    await refused(b, res, 400, "The identity provider refused the login code");
  });

  test("the issuer is down: /login says so (502)", async () => {
    const port = await freePort();
    const b = setup({ ODCS_OIDC_ISSUER: `http://127.0.0.1:${port}` });
    const res = await b.browse("/login");
    await refused(
      b,
      res,
      502,
      `The identity provider's discovery document http://127.0.0.1:${port}/.well-known/openid-configuration could not be read`,
    );
    expect(b.jar.has(LOGIN_COOKIE)).toBe(false);
  });

  test("the issuer's discovery names another issuer (502)", async () => {
    const b = setup({ ODCS_OIDC_ISSUER: `${op.issuer}/` });
    await refused(b, await b.browse("/login"), 502, `names issuer ${op.issuer}, not ${op.issuer}/`);
  });
});

describe("sessions", () => {
  test("a tampered or foreign session cookie is no session", async () => {
    const b = setup();
    await b.browse(await b.toCallback());
    const good = b.jar.get(SESSION_COOKIE) ?? "";
    const i = good.length - 20;
    b.jar.set(
      SESSION_COOKIE,
      `${good.slice(0, i)}${good[i] === "x" ? "y" : "x"}${good.slice(i + 1)}`,
    );
    expect(await b.whoami()).toBeNull();
    // Made with another secret.
    const other = setup({ ODCS_DASHBOARD_SESSION_SECRET: "t".repeat(40) });
    await other.browse(await other.toCallback());
    b.jar.set(SESSION_COOKIE, other.jar.get(SESSION_COOKIE) ?? "");
    expect(await b.whoami()).toBeNull();
    // A pending-login cookie is not a session, even under the same secret.
    const started = setup();
    await started.browse("/login");
    b.jar.set(SESSION_COOKIE, started.jar.get(LOGIN_COOKIE) ?? "");
    expect(await b.whoami()).toBeNull();
  });

  test("logout needs the dashboard's CSRF token; with it, the cookie is cleared", async () => {
    const b = setup();
    await b.browse(await b.toCallback());
    const token = "t".repeat(43);
    const post = (body: string) =>
      b.browse("/logout", {
        method: "POST",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
    const refusals: [string, string | undefined][] = [
      ["", token],
      [`${CSRF_FIELD}=forged`, token],
      [`${CSRF_FIELD}=${token}`, undefined],
      [`${CSRF_FIELD}=${token}`, "u".repeat(43)],
    ];
    for (const [body, cookie] of refusals) {
      if (cookie === undefined) b.jar.delete(CSRF_COOKIE);
      else b.jar.set(CSRF_COOKIE, cookie);
      const res = await post(body);
      expect(res.status).toBe(403);
      expect(await bodyOf(res)).toContain("The form's security token is missing or wrong");
      expect((await b.whoami()).identity.username).toBe("alice");
    }
    b.jar.set(CSRF_COOKIE, token);
    const res = await post(`${CSRF_FIELD}=${token}`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    expect(res.headers.getSetCookie().join()).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/`),
    );
    expect(await b.whoami()).toBeNull();
  });

  test("without openidc and a client id there is no login", async () => {
    for (const settings of [{ ODCS_AUTH_BACKEND: "noauth" }, { ODCS_OIDC_CLIENT_ID: undefined }]) {
      const b = setup(settings);
      expect(b.login.enabled).toBe(false);
      const res = await b.browse("/login");
      expect(res.status).toBe(404);
      expect(await bodyOf(res)).toContain(
        "it needs ODCS_AUTH_BACKEND=openidc and ODCS_OIDC_CLIENT_ID",
      );
    }
  });
});
