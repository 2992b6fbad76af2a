/** Longest wait between attempts. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * Delay before the next attempt: e^min(attempts, 10) seconds (graphile's
 * curve), capped, with ±20 % jitter so retries of many jobs spread out.
 * `random` is injectable for tests.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(Math.exp(Math.min(attempts, 10)) * 1000, MAX_RETRY_DELAY_MS);
  // Jitter first, then the cap: the cap is the longest wait, jitter included.
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), MAX_RETRY_DELAY_MS);
}
