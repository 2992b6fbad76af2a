import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InsufficientStorageError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  RequestTimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
} from "../domain/errors.ts";
import type { Logger } from "./deps.ts";

const REASON: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
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

export function statusOf(err: DomainError): ContentfulStatusCode {
  if (err instanceof InvalidRequestError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof TooManyRequestsError) return 429;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof InsufficientStorageError) return 507;
  if (err instanceof RequestTimeoutError) return 408;
  return 500;
}

/** Seconds a client is asked to wait after a 507 (the upload dir's disk full). */
export const INSUFFICIENT_STORAGE_RETRY_AFTER_SECONDS = 60;

/** Seconds a client is asked to wait after a 503 for a busy or full database. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite result codes that say the database cannot take the request now,
 * not that the request or our code is wrong: each is a 503 with what
 * happened. The transaction that met one was rolled back whole.
 */
const STORAGE_FAILURES: Record<string, string> = {
  SQLITE_FULL: "the database disk is full",
  SQLITE_BUSY: "the database is busy (locked by another process for too long)",
  SQLITE_LOCKED: "the database is locked",
  SQLITE_IOERR: "the database could not be written (I/O error)",
  SQLITE_READONLY: "the database is read-only",
  SQLITE_CANTOPEN: "the database file cannot be opened",
};

/**
 * The storage failure behind `err` (libSQL's error, possibly wrapped by
 * drizzle in `cause`), or undefined. Extended codes (`SQLITE_IOERR_WRITE`)
 * count as their primary code.
 */
export function storageFailure(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    const primary = code.replace(/^(SQLITE_[A-Z]+?)(_[A-Z_]+)?$/, "$1");
    const what = STORAGE_FAILURES[code] ?? STORAGE_FAILURES[primary];
    if (what) return what;
    if (/disk is full|database or disk is full/i.test(e.message))
      return STORAGE_FAILURES.SQLITE_FULL;
  }
  return undefined;
}

/** The one `onError`: known errors keep their status, anything else is a logged 500. */
export function handleError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof TooManyRequestsError) c.header("Retry-After", String(err.retryAfterSeconds));
    if (err instanceof InsufficientStorageError)
      c.header("Retry-After", String(INSUFFICIENT_STORAGE_RETRY_AFTER_SECONDS));
    if (err instanceof DomainError) return errorResponse(c, statusOf(err), err.message);
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return errorResponse(c, status, err.message || REASON[status] || "Error");
    }
    const storage = storageFailure(err);
    if (storage) {
      log.warn("request refused: database unavailable", {
        err: String(err),
        requestId: c.res.headers.get("X-Request-Id"),
      });
      c.header("Retry-After", String(STORAGE_RETRY_AFTER_SECONDS));
      return errorResponse(
        c,
        503,
        `Service unavailable: ${storage}; nothing was changed, try again later`,
      );
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
