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

/** errno names of a write refused for want of space (a full disk, a quota). */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/** Whether `err` (or an error it wraps) is a write refused for want of space. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NO_SPACE.has(code)) return true;
    // xorriso checks the room for an image before writing it ("FAILURE : Image size
    // 204s exceeds free space on media 12s").
    if (
      /\bENOSPC\b|\bEDQUOT\b|no space left on device|exceeds free space on media/i.test(e.message)
    )
      return true;
  }
  return false;
}
