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

/**
 * `fetch(input, init)` whose whole answer, headers *and* body, must come
 * within `ms` of the call; `signal` (a job's, a shutdown's) ends it sooner.
 * Past the deadline the fetch rejects, or a read of the body does, with a
 * `TimeoutError`; with `signal`, with its reason.
 *
 * Why not `fetch(input, { signal: timeoutSignal(signal, ms) })` alone: once
 * the headers are in, undici aborts the body only through its `Request`
 * object, which nothing holds after `fetch` resolves, and it drops its
 * listener on the caller's signal when that object is collected. After a
 * garbage collection a body that stalled was never ended: a download from
 * a server that sent its headers and then nothing hung for good (CI: the
 * fault proxy's `stall` test waited 60 s for a 1 s timeout). Here the body
 * is read through a pipe that the deadline aborts, and the pipe holds the
 * deadline while it runs. Aborting the pipe cancels undici's body, which
 * closes the connection.
 */
/** Statuses whose answers have no body (a `Response` made with one throws). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export async function fetchWithin(
  input: string | URL,
  init: Omit<RequestInit, "signal">,
  signal: AbortSignal | undefined,
  ms: number,
): Promise<Response> {
  const deadline = timeoutSignal(signal, ms);
  const res = await fetch(input, { ...init, signal: deadline });
  if (!res.body || NULL_BODY.has(res.status)) return res;
  const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), {
    signal: deadline,
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
