import { setTimeout as sleep } from "node:timers/promises";
import { isRetryable } from "./errors.ts";

/** Tries of one HTTP request before its failure goes to the job (which has its own retries). */
export const FETCH_ATTEMPTS = 3;
/** First pause between tries; doubled each time, ±25 % jitter. */
export const FETCH_RETRY_BASE_MS = 250;

/**
 * Run `attempt` until it succeeds, throws something not retryable (a
 * `ComposeError` saying so), or has been tried `attempts` times; the last
 * failure is thrown. Pauses grow exponentially and end at once when
 * `signal` aborts (cancel, shutdown, the compose's own timeout), which then
 * throws its reason. A transient fault (a reset, a 503, a broken body) costs
 * a pause here instead of a whole attempt of the compose.
 */
export async function withRetries<T>(
  signal: AbortSignal,
  attempt: (n: number) => Promise<T>,
  opts: { attempts?: number; baseMs?: number; random?: () => number } = {},
): Promise<T> {
  const attempts = opts.attempts ?? FETCH_ATTEMPTS;
  const baseMs = opts.baseMs ?? FETCH_RETRY_BASE_MS;
  const random = opts.random ?? Math.random;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (n >= attempts || !isRetryable(err)) throw err;
      const pause = Math.round(baseMs * 2 ** (n - 1) * (0.75 + 0.5 * random()));
      await sleep(pause, undefined, { signal }).catch(() => {
        throw signal.reason ?? err;
      });
    }
  }
}
