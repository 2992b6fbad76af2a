/** Where a composite signal keeps its timeout signal (`timeoutSignal`). */
const HELD = Symbol("timeout signal");

/**
 * `signal` (if any), also aborted with `AbortSignal.timeout(ms)`'s
 * `TimeoutError` after `ms`.
 *
 * Why not `AbortSignal.any([signal, AbortSignal.timeout(ms)])` as it is:
 * Node's timeout timer holds its signal only weakly, and `AbortSignal.any`
 * holds its sources weakly too, so nothing kept the timeout signal alive:
 * after a garbage collection it never fired, and a fetch to a server that
 * never answered hung for good (CI: a Pulp timeout test waited 60 s for a
 * 1 s timeout). Here the composite, which the fetch holds, holds it.
 */
export function timeoutSignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  if (!signal) return timeout;
  const both = AbortSignal.any([signal, timeout]);
  Object.defineProperty(both, HELD, { value: timeout });
  return both;
}
