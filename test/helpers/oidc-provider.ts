import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK } from "jose";

/**
 * A real OpenID Provider (panva's oidc-provider) on 127.0.0.1 for auth
 * tests: every test client is a confidential client with the
 * client_credentials grant; its access tokens are RS256 JWTs (resource
 * indicators) carrying the client's extra claims (username, groups …).
 * Counts the requests it serves per path, and can rotate its signing key.
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
  async findByUid(): Promise<undefined> {
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
}): Promise<TestOidcProvider> {
  const Provider = await loadProvider();
  const audience = opts.audience ?? "https://odcs.test/api";
  let keys: SigningKey[] = opts.keys ? [...opts.keys] : [await newSigningKey()];
  const claims = new Map(opts.clients.map((c) => [c.id, c.claims ?? {}]));
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
      clients: opts.clients.map((c) => ({
        client_id: c.id,
        client_secret: secretOf(c.id),
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_post",
      })),
      adapter: MapAdapter,
      jwks: { keys: keys.map((k) => k.privateJwk) },
      ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
      features: {
        devInteractions: { enabled: false },
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
      extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) =>
        claims.get(token.clientId ?? ""),
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
