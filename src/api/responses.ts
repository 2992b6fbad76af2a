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
