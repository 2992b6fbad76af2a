import { ErrorSchema } from "./composes.schemas.ts";

const err = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** Named error responses spread into every route. */
export const errorResponses = {
  400: err("Invalid request (ODCS error JSON)"),
  500: err("Internal error"),
} as const;

export const authErrorResponses = {
  401: err("Missing or invalid credentials"),
  403: err("Not permitted"),
} as const;

export const notFoundResponse = { 404: err("No such compose") } as const;

/** Refusals of a write for its size, its owner's queue or an unavailable database. */
export const writeLimitResponses = {
  408: err("The request body stalled: no byte for ODCS_BODY_IDLE_SECONDS"),
  413: err("Request body larger than ODCS_MAX_BODY_BYTES"),
  429: err("The owner already has ODCS_MAX_QUEUED_PER_OWNER waiting composes (see Retry-After)"),
  503: err("The database is full, busy or unavailable; nothing was changed (see Retry-After)"),
} as const;
