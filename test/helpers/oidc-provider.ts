import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK } from "jose";

/**
 * A real OpenID Provider (panva's oidc-provider) on 127.0.0.1 for auth
 * tests: every test client is a confidential client with the
 * client_credentials grant; its access tokens are RS256 JWTs (resource
 * indicators) carrying the client's extra claims (username, groups …).
 * Counts the requests it serves per path, and can rotate its signing key.
 *
 * With `webClients`, it also serves browser logins: the authorization code
 * flow (PKCE required) through oidc-provider's own login and consent pages
 * (devInteractions: any password is accepted for a login name), where an
 * account's claims are those given in `users`, in ID and access tokens alike.
 */

/** The scopes of ODCS's default namespace a resource server grants. */
export const ODCS_SCOPES = ["new-compose", "renew-compose", "delete-compose"].map(
  (s) => `https://pagure.io/odcs/${s}`,
);
export const TOKEN_TTL_SECONDS = 300;

export interface TestClientSpec {
  id: string;
  /** Extra claims in every access token of this client, e.g. `{ preferred_username, groups }`. */
  claims?: Record<string, unknown>;
}

/** A client that logs users in with the authorization code flow + PKCE. */
export interface TestWebClientSpec {
  id: string;
  redirectUris: readonly string[];
  /** A confidential client (secret `secretOf(id)`, HTTP Basic) rather than a public one. */
  confidential?: boolean;
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicKeyPem: string;
}

export interface TestOidcProvider {
  issuer: string;
  /** The resource indicator tokens get by default, which becomes their `aud`. */
  audience: string;
  /** Key new tokens are signed with. */
  signingKey(): SigningKey;
  /** Every key, signing key first; pass to another provider to share them. */
  keys(): SigningKey[];
  /** An access token of a client over the real token endpoint. */
  token(clientId: string, opts?: { scope?: readonly string[]; resource?: string }): Promise<string>;
  /** Publish a new key, keep the old ones, sign with the new one; returns its `kid`. */
  rotateKeys(): Promise<string>;
  /** Requests served for a path, e.g. `/jwks`. */
  hits(path: string): number;
  /**
   * Log `login` in as a browser would, from the dashboard's authorization
   * request URL through the provider's login and consent forms; returns the
   * URL the provider finally redirects to (the client's redirect URI with
   * `code` and `state`, or `error`).
   */
  browserLogin(authorizeUrl: string, login: string): Promise<string>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface ProviderInstance {
  callback(): Handler;
}
type ProviderConstructor = new (issuer: string, configuration: object) => ProviderInstance;

/** oidc-provider ships no type declarations; the subset used here is declared above. */
async function loadProvider(): Promise<ProviderConstructor> {
  const specifier = "oidc-provider";
  const mod: unknown = await import(specifier);
  if (typeof mod === "object" && mod !== null && "default" in mod) {
    const ctor: unknown = mod.default;
    if (typeof ctor === "function") return ctor as ProviderConstructor;
  }
  throw new Error("oidc-provider has no default export");
}

/**
 * A Map-backed storage adapter; the provider's own one works too but warns
 * on every start. JWT access tokens are self-contained, so little lands here.
 */
class MapAdapter {
  private readonly rows = new Map<string, Record<string, unknown>>();
  constructor(private readonly model: string) {}
  async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
    this.rows.set(`${this.model}:${id}`, payload);
  }
  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return this.rows.get(`${this.model}:${id}`);
  }
  /** Sessions are looked up by their `uid` during browser logins. */
  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    for (const [key, row] of this.rows) {
      if (key.startsWith(`${this.model}:`) && row.uid === uid) return row;
    }
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(id: string): Promise<void> {
    const row = this.rows.get(`${this.model}:${id}`);
    if (row) row.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    this.rows.delete(`${this.model}:${id}`);
  }
  async revokeByGrantId(): Promise<void> {}
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `k-${crypto.randomUUID()}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateJwk, publicKeyPem: await exportSPKI(publicKey) };
}

export const secretOf = (clientId: string) => `secret-of-${clientId}`;

export async function startOidcProvider(opts: {
  clients: readonly TestClientSpec[];
  audience?: string;
  keys?: readonly SigningKey[];
  webClients?: readonly TestWebClientSpec[];
  /** Claims of the accounts that log in through `webClients`, by login name. */
  users?: Record<string, Record<string, unknown>>;
}): Promise<TestOidcProvider> {
  const Provider = await loadProvider();
  const audience = opts.audience ?? "https://odcs.test/api";
  let keys: SigningKey[] = opts.keys ? [...opts.keys] : [await newSigningKey()];
  const claims = new Map(opts.clients.map((c) => [c.id, c.claims ?? {}]));
  const users = opts.users ?? {};
  const webClients = opts.webClients ?? [];
  const hits = new Map<string, number>();
  let handler: Handler = () => {};

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = (): Handler => {
    const signingKid = keys[0]?.kid;
    const provider = new Provider(issuer, {
      clients: [
        ...opts.clients.map((c) => ({
          client_id: c.id,
          client_secret: secretOf(c.id),
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: "client_secret_post",
        })),
        ...webClients.map((c) => ({
          client_id: c.id,
          ...(c.confidential ? { client_secret: secretOf(c.id) } : {}),
          grant_types: ["authorization_code"],
          response_types: ["code"],
          redirect_uris: [...c.redirectUris],
          token_endpoint_auth_method: c.confidential ? "client_secret_basic" : "none",
        })),
      ],
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({ sub, ...users[sub] }),
      }),
      claims: { openid: ["sub"], profile: ["preferred_username", "name", "groups"] },
      pkce: { required: () => true },
      adapter: MapAdapter,
      jwks: { keys: keys.map((k) => k.privateJwk) },
      ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
      features: {
        devInteractions: { enabled: webClients.length > 0 },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => ({
            audience: resourceIndicator,
            scope: ODCS_SCOPES.join(" "),
            accessTokenFormat: "jwt",
            accessTokenTTL: TOKEN_TTL_SECONDS,
            jwt: { sign: { alg: "RS256", kid: signingKid } },
          }),
        },
      },
      extraTokenClaims: (_ctx: unknown, token: { clientId?: string; accountId?: string }) =>
        token.accountId !== undefined ? users[token.accountId] : claims.get(token.clientId ?? ""),
    });
    return provider.callback();
  };
  handler = build();

  return {
    issuer,
    audience,
    signingKey: () => {
      const [first] = keys;
      if (first === undefined) throw new Error("no signing key");
      return first;
    },
    keys: () => [...keys],
    async token(clientId, tokenOpts = {}) {
      const form = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: secretOf(clientId),
        scope: (tokenOpts.scope ?? ODCS_SCOPES).join(" "),
      });
      if (tokenOpts.resource !== undefined) form.set("resource", tokenOpts.resource);
      const res = await fetch(`${issuer}/token`, { method: "POST", body: form });
      const body: unknown = await res.json();
      if (
        res.status !== 200 ||
        typeof body !== "object" ||
        body === null ||
        !("access_token" in body) ||
        typeof body.access_token !== "string"
      ) {
        throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    async rotateKeys() {
      const next = await newSigningKey();
      keys = [next, ...keys];
      handler = build();
      return next.kid;
    },
    hits: (path) => hits.get(path) ?? 0,
    browserLogin: (authorizeUrl, login) => followLogin(authorizeUrl, login, issuer),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Walk the provider's pages like a browser with cookies: follow redirects
 * on the provider's origin, fill in and submit each form (login: the name
 * and any password; consent: as shown), stop at the first redirect elsewhere.
 */
async function followLogin(start: string, login: string, issuer: string): Promise<string> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  let url = start;
  let init: RequestInit = {};
  for (let step = 0; step < 12; step++) {
    const res = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const eq = pair.indexOf("=");
      const value = pair.slice(eq + 1);
      if (value === "" || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
    const location = res.headers.get("location");
    if (location !== null) {
      const next = new URL(location, url);
      if (next.origin !== new URL(issuer).origin) return next.href;
      url = next.href;
      init = {};
      continue;
    }
    const html = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (res.status !== 200 || form?.[1] === undefined) {
      throw new Error(`login stopped at ${url}: HTTP ${res.status} ${html.slice(0, 300)}`);
    }
    const body = new URLSearchParams();
    for (const input of (form[2] ?? "").matchAll(/<input[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      if (name === undefined) continue;
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? "";
      body.set(name, name === "login" ? login : name === "password" ? "any" : value);
    }
    url = new URL(form[1], url).href;
    init = {
      method: "POST",
      body: body.toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    };
  }
  throw new Error(`login did not leave the provider after 12 steps (at ${url})`);
}
