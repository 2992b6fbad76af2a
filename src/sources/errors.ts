/**
 * A failure of compose generation. `message` becomes the compose's
 * `state_reason` (after "Error while generating compose: "), so it says what
 * was being done, on what, and what came back. `retryable` failures (network,
 * a server's 5xx) are retried with backoff; the rest fail the compose at once.
 */
export class ComposeError extends Error {
  override name = "ComposeError";
  readonly retryable: boolean;
  constructor(message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = opts.retryable ?? false;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ComposeError ? err.retryable : false;
}
