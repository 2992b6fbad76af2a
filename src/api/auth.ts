import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { Config } from "../config.ts";
import { UnauthorizedError } from "../domain/errors.ts";
import { type Authenticator, type Identity, noauthAuthenticator } from "../domain/identity.ts";

/**
 * Authentication backends. `openidc` verifies `Authorization: Bearer <jwt>`
 * access tokens itself with jose (upstream ODCS leaves that to
 * mod_auth_openidc in front of it, §14.1), against the issuer's published
 * keys: discovered once from `<issuer>/.well-known/openid-configuration`
 * unless `ODCS_OIDC_JWKS_URI` names them, cached, and refetched only when a
 * token names a key we do not have (at most once per cooldown) or the cache
 * is older than its maximum age.
 */

export type AuthConfig = Pick<
  Config,
  | "ODCS_AUTH_BACKEND"
  | "ODCS_OIDC_ISSUER"
  | "ODCS_OIDC_AUDIENCE"
  | "ODCS_OIDC_JWKS_URI"
  | "ODCS_OIDC_USERNAME_CLAIM"
  | "ODCS_OIDC_GROUPS_CLAIM"
  | "ODCS_OIDC_ALGORITHMS"
  | "ODCS_OIDC_CLOCK_SKEW_SECONDS"
>;

export interface AuthenticatorOptions {
  /** HTTP client for discovery and JWKS requests (default: global fetch). */
  fetch?: typeof fetch;
  /** "Now" for token expiry checks and the discovery retry delay. */
  clock?: () => Date;
  /** Least time between two JWKS fetches caused by unknown key ids. */
  jwksCooldownMs?: number;
}

/** Least time between JWKS refetches caused by tokens with an unknown `kid`. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched on the first request after they are this old. */
export const JWKS_CACHE_MAX_AGE_MS = 600_000;
/** After a failed discovery, requests fail fast for this long before it is tried again. */
export const DISCOVERY_RETRY_MS = 10_000;
/** Timeout of each discovery and JWKS request. */
export const OIDC_HTTP_TIMEOUT_MS = 5_000;

/** Build the authenticator `ODCS_AUTH_BACKEND` selects. Does no I/O until the first request. */
export function createAuthenticator(
  config: AuthConfig,
  opts: AuthenticatorOptions = {},
): Authenticator {
  if (config.ODCS_AUTH_BACKEND === "noauth") return noauthAuthenticator;
  return createOidcAuthenticator(config, opts);
}

function createOidcAuthenticator(config: AuthConfig, opts: AuthenticatorOptions): Authenticator {
  const issuer = config.ODCS_OIDC_ISSUER;
  const audience = config.ODCS_OIDC_AUDIENCE;
  if (issuer === undefined || audience === undefined) {
    throw new Error("ODCS_OIDC_ISSUER and ODCS_OIDC_AUDIENCE are required for openidc");
  }
  const algorithms = checkAlgorithms(config.ODCS_OIDC_ALGORITHMS);
  const fetchImpl = opts.fetch ?? fetch;
  const clock = opts.clock ?? (() => new Date());
  const skew = config.ODCS_OIDC_CLOCK_SKEW_SECONDS;
  const remoteKeys = (jwksUri: URL): JWTVerifyGetKey =>
    createRemoteJWKSet(jwksUri, {
      cooldownDuration: opts.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      timeoutDuration: OIDC_HTTP_TIMEOUT_MS,
      [customFetch]: fetchImpl,
    });
  const explicitJwksUri = config.ODCS_OIDC_JWKS_URI;
  const keys = memoizeWithRetry(
    async () =>
      remoteKeys(
        explicitJwksUri === undefined
          ? await discoverJwksUri(issuer, fetchImpl)
          : new URL(explicitJwksUri),
      ),
    clock,
  );

  return {
    backend: "openidc",
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      const getKey = await keys();
      const now = clock();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms,
          requiredClaims: ["exp"],
          clockTolerance: skew,
          currentDate: now,
        }));
      } catch (err) {
        throw explainVerifyError(err, token, { issuer, audience });
      }
      // jose checks `iat` only together with a maximum token age.
      if (typeof payload.iat === "number" && payload.iat > now.getTime() / 1000 + skew) {
        throw new UnauthorizedError("Token is not yet valid");
      }
      return identityFrom(payload, config);
    },
  };
}

/**
 * Only asymmetric algorithms can be checked against a published key set;
 * `none` and HMAC (whose "secret" would be the public key) are refused at
 * start-up rather than silently dropped.
 */
function checkAlgorithms(configured: readonly string[]): string[] {
  const refused = configured.filter((a) => a.toLowerCase() === "none" || /^HS/i.test(a));
  if (refused.length > 0) {
    throw new Error(`ODCS_OIDC_ALGORITHMS must not contain ${refused.join(", ")}`);
  }
  if (configured.length === 0) throw new Error("ODCS_OIDC_ALGORITHMS must not be empty");
  return [...configured];
}

/**
 * Cache the first successful result of `load` forever; share one attempt
 * between concurrent callers; after a failure, repeat that failure without
 * calling `load` until `DISCOVERY_RETRY_MS` have passed, then try again.
 */
function memoizeWithRetry<T>(load: () => Promise<T>, clock: () => Date): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let failed: { at: number; error: unknown } | undefined;
  return () => {
    if (pending !== undefined) return pending;
    if (failed !== undefined && clock().getTime() - failed.at < DISCOVERY_RETRY_MS) {
      return Promise.reject(failed.error);
    }
    const attempt = load();
    pending = attempt;
    attempt.catch((error: unknown) => {
      pending = undefined;
      failed = { at: clock().getTime(), error };
    });
    return attempt;
  };
}

/**
 * The `jwks_uri` of the issuer's OpenID Provider metadata. Throws a plain
 * `Error` (a 500: the server, not the token, is at fault) when the document
 * cannot be fetched or is not the issuer's.
 */
async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const fail = (why: string) => new Error(`OpenID Connect discovery at ${url} failed: ${why}`);
  let body: unknown;
  try {
    const res = await fetchImpl(url, {
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(OIDC_HTTP_TIMEOUT_MS),
    });
    if (res.status !== 200) throw fail(`HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw err instanceof Error && err.message.startsWith("OpenID Connect discovery")
      ? err
      : fail(err instanceof Error ? err.message : String(err));
  }
  if (typeof body !== "object" || body === null) throw fail("not a JSON object");
  const meta = body as Record<string, unknown>;
  // OpenID Connect Discovery §4.3: the metadata must name the same issuer.
  if (meta.issuer !== issuer) throw fail(`it names issuer ${String(meta.issuer)}`);
  if (typeof meta.jwks_uri !== "string" || !URL.canParse(meta.jwks_uri)) {
    throw fail("it has no valid jwks_uri");
  }
  return new URL(meta.jwks_uri);
}

const BEARER_RE = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i;

function bearerToken(authorization: string | undefined): string {
  const header = authorization?.trim() ?? "";
  if (header === "" || /^Bearer$/i.test(header)) {
    throw new UnauthorizedError("Missing token passed to ODCS.");
  }
  const match = BEARER_RE.exec(header);
  if (match?.[1] === undefined) {
    const scheme = header.split(/[ \t]/, 1)[0] ?? "";
    throw new UnauthorizedError(
      /^Bearer$/i.test(scheme)
        ? "Malformed Authorization header: expected 'Bearer <token>'"
        : `Unsupported authorization scheme ${scheme}: send 'Authorization: Bearer <token>'`,
    );
  }
  return match[1];
}

/**
 * Token problems become 401s that say what was wrong; failures to reach the
 * issuer's keys stay plain errors (500), as upstream's unreachable UserInfo
 * endpoint does (§14.1).
 */
function explainVerifyError(
  err: unknown,
  token: string,
  expected: { issuer: string; audience: string },
): Error {
  const unauthorized = (message: string) => new UnauthorizedError(message);
  if (err instanceof errors.JWTExpired) return unauthorized("Token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return unauthorized(`Token has no "${err.claim}" claim`);
    switch (err.claim) {
      case "nbf":
        return unauthorized("Token is not yet valid");
      case "iss":
        return unauthorized(`Token was not issued by ${expected.issuer}`);
      case "aud":
        return unauthorized(`Token audience does not include ${expected.audience}`);
      default:
        return unauthorized(`Token claim "${err.claim}" is invalid: ${err.message}`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return unauthorized(`Token signing algorithm ${headerAlg(token)} is not allowed`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized("Token signature is invalid");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized("Token signing key is not in the issuer's key set");
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported
  ) {
    return unauthorized(`Token is malformed: ${err.message}`);
  }
  const why = err instanceof Error ? err.message : String(err);
  return new Error(`Could not get the signing keys of ${expected.issuer}: ${why}`, { cause: err });
}

function headerAlg(token: string): string {
  try {
    return String(decodeProtectedHeader(token).alg);
  } catch {
    return "(unreadable)";
  }
}

function identityFrom(payload: JWTPayload, config: AuthConfig): Identity {
  const usernameClaim = config.ODCS_OIDC_USERNAME_CLAIM;
  const username = payload[usernameClaim];
  if (typeof username !== "string" || username === "") {
    throw new UnauthorizedError(`Token has no "${usernameClaim}" claim`);
  }
  const groupsClaim = config.ODCS_OIDC_GROUPS_CLAIM;
  const groups = stringList(payload[groupsClaim]);
  if (groups === undefined) {
    throw new UnauthorizedError(
      `Token claim "${groupsClaim}" must be a list of strings or a space-separated string`,
    );
  }
  // RFC 9068 / RFC 8693 `scope` is a space-separated string; Azure-style `scp` a list.
  const scopes = stringList(payload.scope ?? payload.scp);
  if (scopes === undefined) {
    throw new UnauthorizedError(`Token claim "scope" must be a space-separated string`);
  }
  return { username, groups, scopes };
}

/** A claim holding names: absent → [], a list of strings, or one space-separated string. */
function stringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.split(/\s+/).filter((s) => s !== "");
  if (Array.isArray(value) && value.every((v): v is string => typeof v === "string")) {
    return [...value];
  }
  return undefined;
}
