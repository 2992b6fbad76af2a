import { base64url, EncryptJWT, type JWTPayload, jwtDecrypt } from "jose";
import type { Identity } from "../../domain/identity.ts";

/**
 * The dashboard's cookies are JWTs encrypted with `dir` + A256GCM: the
 * authenticated encryption both hides and seals them, so a changed byte or
 * a cookie made with another key opens as nothing. Each purpose (session,
 * pending login) has its own key derived with HKDF from one secret, so one
 * kind of cookie can never stand in for the other.
 */

export type CookiePurpose = "session" | "login";

/** Random bytes as base64url, for state, nonce and PKCE verifiers. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * The secret the cookie keys come from: `ODCS_DASHBOARD_SESSION_SECRET`,
 * else one derived from the client secret (shared by every replica, changes
 * when the secret is rotated), else random per process (logins do not
 * survive a restart nor move between replicas; `ephemeral` says so).
 */
export function sessionSecret(settings: {
  ODCS_DASHBOARD_SESSION_SECRET?: string | undefined;
  ODCS_OIDC_CLIENT_SECRET?: string | undefined;
}): { secret: string; ephemeral: boolean } {
  if (settings.ODCS_DASHBOARD_SESSION_SECRET !== undefined) {
    return { secret: settings.ODCS_DASHBOARD_SESSION_SECRET, ephemeral: false };
  }
  if (settings.ODCS_OIDC_CLIENT_SECRET !== undefined) {
    return { secret: `client-secret:${settings.ODCS_OIDC_CLIENT_SECRET}`, ephemeral: false };
  }
  return { secret: randomToken(32), ephemeral: true };
}

async function deriveKey(secret: string, purpose: CookiePurpose): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("odcs-dashboard"),
      info: new TextEncoder().encode(`odcs-dashboard-${purpose}-cookie`),
    },
    material,
    256,
  );
  return new Uint8Array(bits);
}

export interface CookieSealer {
  /** An encrypted token of `claims` that opens until `now + ttlSeconds`. */
  seal(claims: JWTPayload, ttlSeconds: number, now: Date): Promise<string>;
  /** The claims, or `undefined` for a token that is expired, altered or not ours. */
  open(token: string, now: Date): Promise<JWTPayload | undefined>;
}

export function cookieSealer(secret: string, purpose: CookiePurpose): CookieSealer {
  const key = deriveKey(secret, purpose);
  return {
    async seal(claims, ttlSeconds, now) {
      const iat = Math.floor(now.getTime() / 1000);
      return new EncryptJWT({ ...claims, pur: purpose })
        .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .encrypt(await key);
    },
    async open(token, now) {
      try {
        const { payload } = await jwtDecrypt(token, await key, {
          currentDate: now,
          keyManagementAlgorithms: ["dir"],
          contentEncryptionAlgorithms: ["A256GCM"],
          requiredClaims: ["exp"],
        });
        return payload.pur === purpose ? payload : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** What a dashboard session holds: the API's identity of the user. */
export interface Session {
  identity: Identity;
  /** When the session ends (epoch seconds). */
  expiresAt: number;
}

const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

/** The session in opened cookie claims, `undefined` if they are not one. */
export function sessionFromClaims(claims: JWTPayload): Session | undefined {
  const { username, groups, scopes, exp } = claims;
  if (typeof username !== "string" || username === "" || !isStringList(groups)) return undefined;
  if (scopes !== null && !isStringList(scopes)) return undefined;
  if (typeof exp !== "number") return undefined;
  return { identity: { username, groups, scopes }, expiresAt: exp };
}

export function sessionClaims(identity: Identity): JWTPayload {
  return { username: identity.username, groups: identity.groups, scopes: identity.scopes };
}
