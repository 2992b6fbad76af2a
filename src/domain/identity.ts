/**
 * Who is calling. `null` stands for the `noauth` backend, where there is no
 * user: ODCS records the owner as "unknown" and deletions/cancellations as
 * "anonymous", and every permission check passes.
 */
export interface Identity {
  username: string;
  groups: string[];
  /** Short or full scope names from the token; `null` when the backend has no scopes. */
  scopes: string[] | null;
}

export interface Authenticator {
  readonly backend: "noauth" | "openidc";
  /**
   * Turn the request's `Authorization` header into an identity. Resolves
   * `null` under noauth; throws `UnauthorizedError` (message says what was
   * wrong) for a missing or invalid credential.
   */
  authenticate(authorization: string | undefined): Promise<Identity | null>;
}

export const NOAUTH_OWNER = "unknown";
export const ANONYMOUS = "anonymous";

export const noauthAuthenticator: Authenticator = {
  backend: "noauth",
  authenticate: async () => null,
};
