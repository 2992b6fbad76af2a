import { createRoute } from "@hono/zod-openapi";
import { findComposeState, getCompose } from "../db/composes.ts";
import { toComposeDetailJson } from "../domain/json-view.ts";
import { type ComposeStateName, STATE_NAMES, stateName } from "../domain/states.ts";
import { TRANSITIONS } from "../domain/transitions.ts";
import { type ComposeWaits, TooManyWaitersError, WAIT_DEFAULT_SECONDS } from "./compose-waits.ts";
import { ComposeDetailSchema, ComposeIdParam, ErrorSchema, WaitQuery } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { errorBody } from "./errors.ts";
import { errorResponses, notFoundResponse } from "./responses.ts";
import { newRouter } from "./router.ts";

const FINAL: readonly ComposeStateName[] = ["done", "failed", "removed"];

const waitRoute = createRoute({
  method: "get",
  path: "/{id}/wait",
  operationId: "waitForComposeState",
  tags: ["composes"],
  security: [],
  summary: "Wait until a compose reaches a state (long poll)",
  description:
    "Not part of ODCS: answers the compose, as GET /api/1/composes/{id} does, as soon as it is in one of " +
    "`state` or can no longer get there, or when `timeout` has passed (then in whatever state it is). " +
    "A client that only polls GET keeps working; this saves it the polling and the latency.",
  request: { params: ComposeIdParam, query: WaitQuery },
  responses: {
    200: {
      description: "The compose, in a wanted state unless the timeout passed first",
      content: { "application/json": { schema: ComposeDetailSchema } },
    },
    ...notFoundResponse,
    503: {
      description: "Too many requests are waiting already; retry, or poll GET",
      content: { "application/json": { schema: ErrorSchema } },
    },
    ...errorResponses,
  },
});

/** Every state `from` can still move to, through any number of transitions. */
function reachable(from: ComposeStateName): Set<ComposeStateName> {
  const seen = new Set<ComposeStateName>();
  const next = [...TRANSITIONS[from]];
  for (let s = next.pop(); s !== undefined; s = next.pop()) {
    if (seen.has(s)) continue;
    seen.add(s);
    next.push(...TRANSITIONS[s]);
  }
  return seen;
}

/** Settled: in a wanted state, or none of them is reachable any more. */
function settledFor(wanted: readonly ComposeStateName[]) {
  return (state: number) => {
    const now = stateName(state);
    const ahead = reachable(now);
    return wanted.includes(now) || !wanted.some((s) => ahead.has(s));
  };
}

export function composeWaitRouter(deps: Deps, waits: ComposeWaits) {
  const r = newRouter();
  r.openapi(waitRoute, async (c) => {
    const id = Number(c.req.valid("param").id);
    const query = c.req.valid("query");
    const wanted = query.state
      ? (query.state.split(",") as ComposeStateName[]).filter((s) => STATE_NAMES.includes(s))
      : FINAL;
    const timeoutMs = Math.round(Number(query.timeout ?? WAIT_DEFAULT_SECONDS) * 1000);
    try {
      await waits.waitFor(
        id,
        () => findComposeState(deps.db, id),
        settledFor(wanted),
        timeoutMs,
        c.req.raw.signal,
      );
    } catch (err) {
      if (!(err instanceof TooManyWaitersError)) throw err;
      c.header("Retry-After", "1");
      const message = `${err.message}; retry later or poll GET /api/1/composes/${id}`;
      return c.json(errorBody(503, message), 503);
    }
    const row = await getCompose(deps.db, id);
    c.header("Access-Control-Allow-Origin", "*");
    return c.json(toComposeDetailJson(row, deps.config), 200);
  });
  return r;
}
