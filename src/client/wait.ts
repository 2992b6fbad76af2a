import type { Client } from "openapi-fetch";
import { OdcsError, OdcsTimeoutError } from "./errors.ts";
import type { components, paths } from "./openapi.gen.ts";

type ComposeDetail = components["schemas"]["ComposeDetail"];

/** Time for `waitForCompose`: real by default, injectable for tests. */
export interface WaitClock {
  /** Milliseconds, any origin. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemWaitClock: WaitClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const abort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", abort, { once: true });
    }),
};

export interface WaitOptions {
  /** Seconds before giving up with `OdcsTimeoutError` (default 300, as ODCS's client). */
  timeout?: number;
  signal?: AbortSignal;
  /** Called with the compose as first read and after every answer. */
  onUpdate?: (compose: ComposeDetail) => void | Promise<void>;
  /** Longest single long poll in seconds (default 30; the server allows 60). */
  longPollSeconds?: number;
  /** Polling fallback: seconds before the first re-read (ODCS: 1, or 10 when watching logs). */
  firstDelay?: number;
  /** Polling fallback: keep `firstDelay` instead of growing it (ODCS does when watching logs). */
  fixedDelay?: boolean;
  clock?: WaitClock;
}

const DEFAULT_TIMEOUT_SECONDS = 300;
const DEFAULT_LONG_POLL_SECONDS = 30;
const RETRY_AFTER_BUSY_SECONDS = 1;

export const isFinal = (c: { state_name: string }) =>
  c.state_name !== "wait" && c.state_name !== "generating";

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** ODCS's polling delays (§18): 1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72 … seconds. */
export function nextDelay(delay: number): number {
  return roundHalfEven(delay * 1.5);
}

/**
 * The answer of a server without the long poll (upstream ODCS: an unknown
 * route is a 404, or a 500/405 carrying the 404 text), as opposed to "no
 * such compose".
 */
function lacksLongPoll(err: unknown): boolean {
  if (!(err instanceof OdcsError)) return false;
  if (err.status === 404) return err.body?.message !== "No such compose found.";
  return err.status === 405 || err.status === 500 || err.status === 501;
}

/**
 * Wait until compose `id` is no longer `wait`/`generating` and return it.
 * Uses the service's long poll (`GET …/{id}/wait`) and falls back to ODCS's
 * polling schedule against a server without it. Throws `OdcsTimeoutError`
 * after `timeout` seconds, the signal's reason when aborted, `OdcsError`
 * when the server refuses (an unknown id is a 404).
 */
export async function waitForCompose(
  api: Client<paths>,
  id: number,
  opts: WaitOptions = {},
): Promise<ComposeDetail> {
  const clock = opts.clock ?? systemWaitClock;
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT_SECONDS;
  const signal = opts.signal;
  const path = { id };
  const start = clock.now();
  const get = async () => {
    const { data } = await api.GET("/api/1/composes/{id}", {
      params: { path },
      ...(signal ? { signal } : {}),
    });
    if (data === undefined) throw new Error(`empty answer for compose ${id}`);
    return data;
  };
  let compose = await get();
  await opts.onUpdate?.(compose);
  let longPoll = true;
  let delay = opts.firstDelay ?? 1;
  while (!isFinal(compose)) {
    const elapsed = (clock.now() - start) / 1000;
    if (elapsed >= timeout) throw new OdcsTimeoutError(id, timeout, compose);
    const remaining = timeout - elapsed;
    if (longPoll) {
      const seconds = Math.min(remaining, opts.longPollSeconds ?? DEFAULT_LONG_POLL_SECONDS, 60);
      try {
        const { data } = await api.GET("/api/1/composes/{id}/wait", {
          params: {
            path,
            query: {
              // From wait, also wake on generating, so callers see the change.
              ...(compose.state_name === "wait" ? { state: "generating,done,failed,removed" } : {}),
              timeout: Math.max(0, seconds).toFixed(3),
            },
          },
          ...(signal ? { signal } : {}),
        });
        if (data === undefined) throw new Error(`empty answer for compose ${id}`);
        compose = data;
      } catch (err) {
        if (err instanceof OdcsError && err.status === 503) {
          await clock.sleep(Math.min(RETRY_AFTER_BUSY_SECONDS, remaining) * 1000, signal);
          continue;
        }
        if (!lacksLongPoll(err)) throw err;
        longPoll = false;
        continue;
      }
    } else {
      await clock.sleep(Math.min(delay, remaining) * 1000, signal);
      if (!opts.fixedDelay) delay = nextDelay(delay);
      compose = await get();
    }
    await opts.onUpdate?.(compose);
  }
  return compose;
}
