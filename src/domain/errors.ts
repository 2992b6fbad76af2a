/**
 * Domain errors carry no HTTP; `api/errors.ts` maps them to ODCS statuses.
 * Messages are shown to clients verbatim, so they say what was wrong.
 */
export class DomainError extends Error {
  override name = "DomainError";
}
export class InvalidRequestError extends DomainError {
  override name = "InvalidRequestError";
}
export class UnauthorizedError extends DomainError {
  override name = "UnauthorizedError";
}
export class ForbiddenError extends DomainError {
  override name = "ForbiddenError";
}
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
}
export class ConflictError extends DomainError {
  override name = "ConflictError";
}
/** A limit on queued work was reached; the client may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends DomainError {
  override name = "TooManyRequestsError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A request body that stalled: no byte for longer than allowed (408). */
export class RequestTimeoutError extends DomainError {
  override name = "RequestTimeoutError";
}

/** A request over a size, count or quota limit (413). */
export class PayloadTooLargeError extends DomainError {
  override name = "PayloadTooLargeError";
}

/**
 * The server has no room to store the request now (the disk of its upload
 * dir full): 507, not 413 — the request is within every limit and may
 * succeed unchanged once space returns.
 */
export class InsufficientStorageError extends DomainError {
  override name = "InsufficientStorageError";
}
