import type { Context } from "hono";
import type { Deps } from "../api/deps.ts";
import type { Identity } from "../domain/identity.ts";

/**
 * Who acts in the dashboard. `identity` is what the API's authenticator
 * would produce for the same person: `null` under `noauth` (ODCS's anonymous
 * caller, every check passes), a user under `openidc`.
 */
export interface Actor {
  identity: Identity | null;
  /** Shown in the header. */
  name: string;
}

/**
 * The one place that decides who acts: `null` when nobody may (not logged
 * in), so pages hide the actions and POSTs are refused with "log in to …".
 * Under `openidc` this is `null` until the login flow (src/dashboard/login/)
 * provides a session.
 */
export async function dashboardActor(_c: Context, deps: Deps): Promise<Actor | null> {
  if (deps.auth.backend === "noauth") return { identity: null, name: "anonymous" };
  return null;
}
