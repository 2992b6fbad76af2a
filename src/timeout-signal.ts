/**
 * `signal` (if any), also aborted with a `TimeoutError` after `ms`.
 *
 * Why not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: Node's
 * timeout timer holds its signal only weakly, and `AbortSignal.any` holds
 * its sources weakly too, so nothing kept the timeout signal alive: after a
 * garbage collection it never fired, and a fetch to a server that never
 * answered hung for good (CI: a Pulp timeout test waited 60 s for a 1 s
 * timeout). Here the pending timer holds the controller.
 */
export function timeoutSignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException(`The operation timed out after ${ms} ms`, "TimeoutError")),
    ms,
  );
  // A timer of Node's, not a number (workerd): not what keeps a process alive.
  (timer as { unref?: () => void }).unref?.();
  return signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
}
