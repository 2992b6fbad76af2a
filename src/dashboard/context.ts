import type { Context } from "hono";
import type { Deps } from "../api/deps.ts";
import { scriptName } from "../api/proxy.ts";
import { type Actor, dashboardActor } from "./actor.ts";
import { csrfToken } from "./csrf.ts";

/** What every page needs besides its own data. */
export interface PageContext {
  deps: Deps;
  /** Epoch ms of this request (the injected clock). */
  now: number;
  /** The trusted proxy prefix ("" or "/x"). */
  base: string;
  href: (path: string) => string;
  actor: Actor | null;
  csrf: string;
  /** The auth backend, for the "log in to …" messages. */
  backend: "noauth" | "openidc";
}

export async function pageContext(c: Context, deps: Deps): Promise<PageContext> {
  const base = scriptName(c.req.raw.headers, deps.config.ODCS_TRUST_PROXY);
  return {
    deps,
    now: deps.clock.now().getTime(),
    base,
    href: (path) => `${base}${path}`,
    actor: await dashboardActor(c, deps),
    csrf: csrfToken(c, base),
    backend: deps.auth.backend,
  };
}
