import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { bodyLimits, readFormBody } from "../../api/body.ts";
import type { Clock, Logger } from "../../api/deps.ts";
import { statusOf } from "../../api/errors.ts";
import { externalBase, scriptName } from "../../api/proxy.ts";
import type { Config } from "../../config.ts";
import { DomainError, UnauthorizedError } from "../../domain/errors.ts";
import type { Authenticator, Identity } from "../../domain/identity.ts";
import { isCsrfValid } from "../csrf.ts";
import { PATHS } from "../paths.ts";
import { safeNextPath } from "./next-path.ts";
import { LoginError, OidcLoginClient } from "./oidc-client.ts";
import {
  cookieSealer,
  randomToken,
  type Session,
  sessionClaims,
  sessionFromClaims,
  sessionSecret,
} from "./session.ts";

/**
 * The dashboard's login: GET /login sends the browser to the issuer
 * (authorization code + PKCE S256, state, nonce, kept in a short-lived
 * encrypted cookie); GET /login/callback checks all of it, trades the code,
 * verifies the ID token, and asks the API's own authenticator what the
 * access token it got is worth — so the dashboard user has exactly the
 * username, groups and scopes the API would give that token. POST /logout
 * ends the session (CSRF-checked like every dashboard form).
 */

export const SESSION_COOKIE = "odcs_session";
export const LOGIN_COOKIE = "odcs_login";
/** How long a started login may take at the identity provider. */
export const LOGIN_TTL_SECONDS = 600;
export const CALLBACK_PATH = "/login/callback";
/** Browsers keep cookies up to about 4096 bytes, name and attributes included. */
export const MAX_SESSION_COOKIE_BYTES = 3800;

export type DashboardLoginConfig = Pick<
  Config,
  | "ODCS_AUTH_BACKEND"
  | "ODCS_OIDC_ISSUER"
  | "ODCS_OIDC_CLIENT_ID"
  | "ODCS_OIDC_CLIENT_SECRET"
  | "ODCS_OIDC_LOGIN_SCOPES"
  | "ODCS_OIDC_SCOPE_PREFIX"
  | "ODCS_OIDC_ALGORITHMS"
  | "ODCS_OIDC_CLOCK_SKEW_SECONDS"
  | "ODCS_DASHBOARD_REDIRECT_URL"
  | "ODCS_DASHBOARD_SESSION_SECRET"
  | "ODCS_DASHBOARD_SESSION_SECONDS"
  | "ODCS_TRUST_PROXY"
  | "ODCS_ALLOWED_CLIENTS"
  | "ODCS_ADMINS"
  | "ODCS_MAX_BODY_BYTES"
  | "ODCS_BODY_IDLE_SECONDS"
>;

export interface DashboardLoginDeps {
  config: DashboardLoginConfig;
  clock: Clock;
  log: Logger;
  /** The API's authenticator: it turns the login's access token into the user's identity. */
  auth: Authenticator;
  /** HTTP client for the issuer (default: global fetch). */
  fetch?: typeof fetch;
}

export interface DashboardLogin {
  /** Login is configured: `openidc` with a client id. */
  readonly enabled: boolean;
  /** GET /login, GET /login/callback, POST /logout; mount at the app's root. */
  readonly routes: Hono;
  /** The request's valid session, or `null` (none, expired, altered, or login not enabled). */
  session(c: Context): Promise<Session | null>;
}

/** The scopes a login asks for by default: openid, profile and the ODCS ones. */
export function defaultLoginScopes(prefix: string): string[] {
  return [
    "openid",
    "profile",
    ...["new-compose", "renew-compose", "delete-compose"].map((s) => `${prefix}${s}`),
  ];
}

const loginsByDeps = new WeakMap<DashboardLoginDeps, DashboardLogin>();

/**
 * The login of an app's dependencies, made on first use: the routes and the
 * dashboard's actor (actor.ts) must share one, since without a configured
 * secret its cookie key is random per instance.
 */
export function dashboardLoginOf(deps: DashboardLoginDeps): DashboardLogin {
  let login = loginsByDeps.get(deps);
  if (login === undefined) {
    login = createDashboardLogin(deps);
    loginsByDeps.set(deps, login);
  }
  return login;
}

export function createDashboardLogin(deps: DashboardLoginDeps): DashboardLogin {
  const { config } = deps;
  const clientId = config.ODCS_OIDC_CLIENT_ID;
  const issuer = config.ODCS_OIDC_ISSUER;
  if (config.ODCS_AUTH_BACKEND !== "openidc" || clientId === undefined || issuer === undefined) {
    return {
      enabled: false,
      routes: disabledRoutes(config.ODCS_TRUST_PROXY),
      session: async () => null,
    };
  }
  const { secret, ephemeral } = sessionSecret(config);
  if (ephemeral) {
    deps.log.warn(
      "dashboard logins use a per-process key: set ODCS_DASHBOARD_SESSION_SECRET so they survive restarts and work across replicas",
    );
  }
  const sessions = cookieSealer(secret, "session");
  const pendingLogins = cookieSealer(secret, "login");
  const client = new OidcLoginClient(
    {
      issuer,
      clientId,
      clientSecret: config.ODCS_OIDC_CLIENT_SECRET,
      scopes: config.ODCS_OIDC_LOGIN_SCOPES ?? defaultLoginScopes(config.ODCS_OIDC_SCOPE_PREFIX),
      algorithms: config.ODCS_OIDC_ALGORITHMS,
      clockSkewSeconds: config.ODCS_OIDC_CLOCK_SKEW_SECONDS,
    },
    { clock: () => deps.clock.now(), ...(deps.fetch ? { fetch: deps.fetch } : {}) },
  );
  const trustProxy = config.ODCS_TRUST_PROXY;
  const redirectUriOf = (c: Context) =>
    config.ODCS_DASHBOARD_REDIRECT_URL ??
    `${externalBase(new URL(c.req.url), c.req.raw.headers, trustProxy)}${CALLBACK_PATH}`;
  const isHttps = (c: Context) => new URL(redirectUriOf(c)).protocol === "https:";
  const cookieOptions = (c: Context, maxAge: number) =>
    ({ path: "/", httpOnly: true, secure: isHttps(c), sameSite: "Lax", maxAge }) as const;
  const prefixed = (c: Context, path: string) =>
    `${scriptName(c.req.raw.headers, trustProxy)}${path}`;

  const session = async (c: Context): Promise<Session | null> => {
    const raw = getCookie(c, SESSION_COOKIE);
    if (raw === undefined) return null;
    const claims = await sessions.open(raw, deps.clock.now());
    return (claims && sessionFromClaims(claims)) ?? null;
  };

  const routes = new Hono();
  routes.get("/login", async (c) => {
    const next = safeNextPath(c.req.query("next"));
    const redirectUri = redirectUriOf(c);
    const pending = {
      state: randomToken(),
      nonce: randomToken(),
      verifier: randomToken(48),
      next,
      redirectUri,
    };
    let location: string;
    try {
      location = await client.authorizationUrl({
        redirectUri,
        state: pending.state,
        nonce: pending.nonce,
        codeVerifier: pending.verifier,
      });
    } catch (err) {
      return failurePage(c, prefixed(c, ""), deps.log, err);
    }
    const sealed = await pendingLogins.seal(pending, LOGIN_TTL_SECONDS, deps.clock.now());
    setCookie(c, LOGIN_COOKIE, sealed, cookieOptions(c, LOGIN_TTL_SECONDS));
    c.header("Cache-Control", "no-store");
    return c.redirect(location, 302);
  });

  routes.get(CALLBACK_PATH, async (c) => {
    c.header("Cache-Control", "no-store");
    const raw = getCookie(c, LOGIN_COOKIE);
    // A login cookie is good for one callback, whatever its outcome.
    deleteCookie(c, LOGIN_COOKIE, { path: "/", secure: isHttps(c) });
    try {
      const { identity, next } = await finishLogin(c, raw);
      const ttl = config.ODCS_DASHBOARD_SESSION_SECONDS;
      const seal = (who: Identity) => sessions.seal(sessionClaims(who), ttl, deps.clock.now());
      let sealed = await seal(identity);
      if (sealed.length > MAX_SESSION_COOKIE_BYTES) {
        // Permissions only look at groups named in the settings: the rest can go.
        sealed = await seal(withOnlyConfiguredGroups(identity, config));
        if (sealed.length > MAX_SESSION_COOKIE_BYTES) {
          throw new LoginError(
            400,
            `Your account's identity is too large for a session cookie (${sealed.length} bytes): ask an administrator to shorten ODCS_ALLOWED_CLIENTS or ODCS_ADMINS`,
          );
        }
      }
      setCookie(c, SESSION_COOKIE, sealed, cookieOptions(c, ttl));
      deps.log.info("dashboard login", { username: identity.username });
      return c.redirect(prefixed(c, next), 303);
    } catch (err) {
      return failurePage(c, prefixed(c, ""), deps.log, err);
    }
  });

  async function finishLogin(
    c: Context,
    raw: string | undefined,
  ): Promise<{ identity: Identity; next: string }> {
    const q = c.req.query();
    if (q.error !== undefined) {
      const why = [q.error, q.error_description].filter((s) => s !== undefined).join(": ");
      throw new LoginError(400, `The identity provider did not log you in: ${why}`);
    }
    if (raw === undefined) {
      throw new LoginError(
        400,
        `No login was started in this browser, or it took longer than ${LOGIN_TTL_SECONDS / 60} minutes: log in again.`,
      );
    }
    const pending = await pendingLogins.open(raw, deps.clock.now());
    const { state, nonce, verifier, next, redirectUri } = pending ?? {};
    if (
      typeof state !== "string" ||
      typeof nonce !== "string" ||
      typeof verifier !== "string" ||
      typeof next !== "string" ||
      typeof redirectUri !== "string"
    ) {
      throw new LoginError(400, "This login has expired or its cookie was altered: log in again.");
    }
    if (q.state === undefined || !timingSafeEqual(q.state, state)) {
      throw new LoginError(
        400,
        "The identity provider's answer is not for the login this browser started (state mismatch): log in again.",
      );
    }
    // RFC 9207: an issuer that names itself must be ours (mix-up defence).
    if (q.iss !== undefined && q.iss !== issuer) {
      throw new LoginError(
        400,
        `The answer comes from issuer ${q.iss}, not ${issuer}: log in again.`,
      );
    }
    if (q.code === undefined || q.code === "") {
      throw new LoginError(400, "The identity provider's answer has no authorization code.");
    }
    const tokens = await client.exchangeCode({ code: q.code, redirectUri, codeVerifier: verifier });
    await client.verifyIdToken(tokens.idToken, nonce);
    let identity: Identity | null;
    try {
      identity = await deps.auth.authenticate(`Bearer ${tokens.accessToken}`);
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        throw new LoginError(
          400,
          `The identity provider logged you in, but the API does not accept the access token it issued: ${err.message}`,
        );
      }
      const why = err instanceof Error ? err.message : String(err);
      throw new LoginError(502, `The API could not check the access token: ${why}`);
    }
    if (identity === null) throw new Error("the API authenticator has no users (noauth)");
    return { identity, next: safeNextPath(next) };
  }

  routes.post("/logout", async (c) => {
    // The dashboard's own CSRF check (double-submit token), as on every form of it.
    let form: Record<string, unknown>;
    try {
      form = await readFormBody(c, bodyLimits(config));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const s = statusOf(err);
      const status = s === 413 || s === 408 ? s : 400;
      return page(c, prefixed(c, ""), status, "Not logged out", err.message);
    }
    if (!isCsrfValid(c, form)) {
      return page(
        c,
        prefixed(c, ""),
        403,
        "Not logged out",
        "The form's security token is missing or wrong, so nothing was changed. Reload the page and log out again.",
      );
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c) });
    return c.redirect(prefixed(c, "/"), 303);
  });

  return { enabled: true, routes, session };
}

/**
 * The identity with only the groups `ODCS_ALLOWED_CLIENTS` and `ODCS_ADMINS`
 * name, which the permission checks (domain/permissions.ts) alone consult:
 * the same permissions in fewer bytes, for users in hundreds of groups.
 */
export function withOnlyConfiguredGroups(
  identity: Identity,
  config: Pick<Config, "ODCS_ALLOWED_CLIENTS" | "ODCS_ADMINS">,
): Identity {
  const named = new Set([
    ...Object.keys(config.ODCS_ALLOWED_CLIENTS.groups),
    ...config.ODCS_ADMINS.groups,
  ]);
  return { ...identity, groups: identity.groups.filter((g) => named.has(g)) };
}

/** Compare two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function disabledRoutes(trustProxy: boolean): Hono {
  const routes = new Hono();
  const notConfigured = (c: Context) =>
    page(
      c,
      scriptName(c.req.raw.headers, trustProxy),
      404,
      "Login is not configured",
      "This ODCS has no dashboard login: it needs ODCS_AUTH_BACKEND=openidc and ODCS_OIDC_CLIENT_ID.",
    );
  routes.get("/login", notConfigured);
  routes.get(CALLBACK_PATH, notConfigured);
  routes.post("/logout", notConfigured);
  return routes;
}

function failurePage(
  c: Context,
  base: string,
  log: Logger,
  err: unknown,
): Response | Promise<Response> {
  if (err instanceof LoginError) {
    log.warn("dashboard login failed", { status: err.status, reason: err.message });
    return page(c, base, err.status, "Login failed", err.message);
  }
  throw err;
}

/** A page about a login problem; `base` is the site's path prefix (X-Script-Name). */
function page(
  c: Context,
  base: string,
  status: 400 | 403 | 404 | 408 | 413 | 502,
  title: string,
  message: string,
) {
  return c.html(
    html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <title>${title} · ODCS</title>
    <link rel="stylesheet" href="${base}${PATHS.asset("pico.min.css")}" />
    <link rel="stylesheet" href="${base}${PATHS.asset("dashboard.css")}" />
  </head>
  <body>
    <main class="container">
      <h1>${title}</h1>
      <p role="alert">${message}</p>
      <p><a href="${base}/login">Log in again</a> · <a href="${base}/">Back to the dashboard</a></p>
    </main>
  </body>
</html>`,
    status,
  );
}
