import {
  base64url,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";

/**
 * The relying-party half of OpenID Connect the dashboard needs: discovery,
 * the authorization request (code flow, PKCE S256, state, nonce), the code
 * exchange and ID token verification with jose against the issuer's keys.
 */

/** Timeout of each request to the issuer. */
export const ISSUER_HTTP_TIMEOUT_MS = 5_000;
/** After a failed discovery, logins fail fast for this long before it is tried again. */
export const DISCOVERY_RETRY_MS = 10_000;

/**
 * A login that cannot go on. `status` 400: the request, the user's cookies
 * or the issuer's answer for this user were wrong; 502: the issuer could not
 * be reached or answered something that is not OpenID Connect.
 */
export class LoginError extends Error {
  override name = "LoginError";
  constructor(
    readonly status: 400 | 502,
    message: string,
  ) {
    super(message);
  }
}

export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
}

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  scopes: readonly string[];
  algorithms: readonly string[];
  clockSkewSeconds: number;
}

export interface OidcClientOptions {
  fetch?: typeof fetch;
  clock: () => Date;
}

export interface TokenSet {
  idToken: string;
  accessToken: string;
}

/** base64url(SHA-256(verifier)): the S256 code challenge (RFC 7636 §4.2). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}

/** jose errors about the token itself; any other failure is reaching the keys. */
const TOKEN_ERRORS = [
  errors.JWTClaimValidationFailed,
  errors.JWTExpired,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

export class OidcLoginClient {
  private readonly fetchImpl: typeof fetch;
  private pending: Promise<{ meta: ProviderMetadata; keys: JWTVerifyGetKey }> | undefined;
  private failed: { at: number; error: unknown } | undefined;

  constructor(
    private readonly settings: OidcClientSettings,
    private readonly opts: OidcClientOptions,
  ) {
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /**
   * The issuer's metadata and keys, discovered once and kept; after a failed
   * discovery the same error is repeated for `DISCOVERY_RETRY_MS`.
   */
  private provider(): Promise<{ meta: ProviderMetadata; keys: JWTVerifyGetKey }> {
    if (this.pending !== undefined) return this.pending;
    const now = this.opts.clock().getTime();
    if (this.failed !== undefined && now - this.failed.at < DISCOVERY_RETRY_MS) {
      return Promise.reject(this.failed.error);
    }
    const attempt = this.discover().then((meta) => ({
      meta,
      keys: createRemoteJWKSet(new URL(meta.jwksUri), {
        timeoutDuration: ISSUER_HTTP_TIMEOUT_MS,
        [customFetch]: this.fetchImpl,
      }),
    }));
    this.pending = attempt;
    attempt.catch((error: unknown) => {
      this.pending = undefined;
      this.failed = { at: this.opts.clock().getTime(), error };
    });
    return attempt;
  }

  private async discover(): Promise<ProviderMetadata> {
    const { issuer } = this.settings;
    const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const fail = (why: string) =>
      new LoginError(502, `The identity provider's discovery document ${url} ${why}`);
    let body: unknown;
    try {
      const res = await this.fetchImpl(url, {
        headers: { accept: "application/json" },
        redirect: "manual",
        signal: AbortSignal.timeout(ISSUER_HTTP_TIMEOUT_MS),
      });
      if (res.status !== 200) throw fail(`answered HTTP ${res.status}`);
      body = await res.json();
    } catch (err) {
      if (err instanceof LoginError) throw err;
      throw fail(`could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    const meta = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    // OpenID Connect Discovery §4.3: the document must name the same issuer.
    if (meta.issuer !== issuer) throw fail(`names issuer ${String(meta.issuer)}, not ${issuer}`);
    const endpoint = (name: string): string => {
      const v = meta[name];
      if (typeof v !== "string" || !/^https?:\/\//.test(v) || !URL.canParse(v)) {
        throw fail(`has no valid ${name}`);
      }
      return v;
    };
    const methods = meta.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes("S256")) {
      throw fail("does not offer PKCE with S256");
    }
    return {
      issuer,
      authorizationEndpoint: endpoint("authorization_endpoint"),
      tokenEndpoint: endpoint("token_endpoint"),
      jwksUri: endpoint("jwks_uri"),
    };
  }

  /** Where to send the browser to log in. */
  async authorizationUrl(p: {
    redirectUri: string;
    state: string;
    nonce: string;
    codeVerifier: string;
  }): Promise<string> {
    const { meta } = await this.provider();
    const url = new URL(meta.authorizationEndpoint);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", this.settings.clientId);
    url.searchParams.set("redirect_uri", p.redirectUri);
    url.searchParams.set("scope", this.settings.scopes.join(" "));
    url.searchParams.set("state", p.state);
    url.searchParams.set("nonce", p.nonce);
    url.searchParams.set("code_challenge", await codeChallenge(p.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
    return url.href;
  }

  /** Trade the authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5). */
  async exchangeCode(p: {
    code: string;
    redirectUri: string;
    codeVerifier: string;
  }): Promise<TokenSet> {
    const { meta } = await this.provider();
    const { clientId, clientSecret } = this.settings;
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code: p.code,
      redirect_uri: p.redirectUri,
      code_verifier: p.codeVerifier,
    });
    const headers: Record<string, string> = {
      accept: "application/json",
      "content-type": "application/x-www-form-urlencoded",
    };
    if (clientSecret === undefined) {
      form.set("client_id", clientId);
    } else {
      // RFC 6749 §2.3.1: both parts form-encoded before Basic.
      const basic = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
      headers.authorization = `Basic ${btoa(basic)}`;
    }
    let res: Response;
    let body: unknown;
    try {
      res = await this.fetchImpl(meta.tokenEndpoint, {
        method: "POST",
        headers,
        body: form.toString(),
        redirect: "manual",
        signal: AbortSignal.timeout(ISSUER_HTTP_TIMEOUT_MS),
      });
      body = await res.json().catch(() => undefined);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new LoginError(
        502,
        `The identity provider's token endpoint could not be reached: ${why}`,
      );
    }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (res.status !== 200) {
      if (res.status === 400 || res.status === 401) {
        const what = [fields.error, fields.error_description].filter((v) => typeof v === "string");
        throw new LoginError(
          400,
          `The identity provider refused the login code: ${what.join(": ") || `HTTP ${res.status}`}`,
        );
      }
      throw new LoginError(
        502,
        `The identity provider's token endpoint answered HTTP ${res.status}`,
      );
    }
    const { id_token: idToken, access_token: accessToken } = fields;
    if (typeof idToken !== "string" || typeof accessToken !== "string") {
      throw new LoginError(
        502,
        "The identity provider's token answer lacks id_token or access_token",
      );
    }
    return { idToken, accessToken };
  }

  /**
   * Check the ID token (OpenID Connect Core §3.1.3.7): signature by the
   * issuer's keys, `iss`, `aud` = our client id (and `azp` when there are
   * several audiences), `exp`/`iat`, and the `nonce` of this login.
   */
  async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    const { keys } = await this.provider();
    const { issuer, clientId } = this.settings;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, keys, {
        issuer,
        audience: clientId,
        algorithms: [...this.settings.algorithms],
        requiredClaims: ["exp", "iat", "sub"],
        clockTolerance: this.settings.clockSkewSeconds,
        currentDate: this.opts.clock(),
      }));
    } catch (err) {
      if (err instanceof Error && TOKEN_ERRORS.some((kind) => err instanceof kind)) {
        throw new LoginError(400, `The ID token was refused: ${err.message}`);
      }
      const why = err instanceof Error ? err.message : String(err);
      throw new LoginError(502, `The identity provider's signing keys could not be read: ${why}`);
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== clientId) {
      throw new LoginError(
        400,
        `The ID token was issued to ${String(payload.azp)}, not ${clientId}`,
      );
    }
    if (payload.nonce !== nonce) {
      throw new LoginError(400, "The ID token's nonce is not this login's: start the login again");
    }
    return payload;
  }
}
