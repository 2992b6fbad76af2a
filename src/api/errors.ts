import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../domain/errors.ts";
import type { Logger } from "./deps.ts";

const REASON: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** ODCS's texts for a URL without a route and a method the route lacks (§1.2, without the "404 Not Found: " prefix). */
export const NOT_FOUND_URL =
  "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
export const METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL.";

/** The ODCS error body (§1.2). */
export function errorBody(status: number, message: string) {
  return { error: REASON[status] ?? "Error", message, status };
}

export function errorResponse(c: Context, status: ContentfulStatusCode, message: string) {
  return c.json(errorBody(status, message), status);
}

function statusOf(err: DomainError): ContentfulStatusCode {
  if (err instanceof InvalidRequestError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof PayloadTooLargeError) return 413;
  return 500;
}

/** The one `onError`: known errors keep their status, anything else is a logged 500. */
export function handleError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof DomainError) return errorResponse(c, statusOf(err), err.message);
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return errorResponse(c, status, err.message || REASON[status] || "Error");
    }
    log.error("unhandled error", {
      err: err.stack ?? String(err),
      requestId: c.res.headers.get("X-Request-Id"),
    });
    return errorResponse(
      c,
      500,
      "Internal server error; the request id is in the X-Request-Id header",
    );
  };
}
