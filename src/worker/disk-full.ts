/** errno names of a write refused for want of space (a full disk, a quota). */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/** Whether `err` (or an error it wraps) is a write refused for want of space. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NO_SPACE.has(code)) return true;
    if (/\bENOSPC\b|\bEDQUOT\b|no space left on device/i.test(e.message)) return true;
  }
  return false;
}

/**
 * A compose's failure for want of space says so first, and where: "ENOSPC"
 * deep in a copy or write message is easy to miss. Worth a retry: composes
 * expire and space comes back.
 */
export function diskFullMessage(message: string): string {
  return /^no space left on device/i.test(message)
    ? `${message} (the disk of ODCS_TARGET_DIR is full)`
    : `no space left on device (the disk of ODCS_TARGET_DIR is full): ${message}`;
}
