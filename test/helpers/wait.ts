/**
 * Poll until a condition holds, with a bound: tests synchronise on state,
 * never on fixed sleeps. The interval is only how often the condition is
 * looked at; the bound is what turns a hang into a readable failure.
 */

export interface WaitOptions {
  /** Give up after this long (ms); default 10 000. */
  timeoutMs?: number;
  /** Pause between checks (ms); default 10. */
  intervalMs?: number;
  /** Names what was awaited in the timeout message. */
  what?: string;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Call `probe` until it returns something other than `undefined`/`false`,
 * and return that value. On timeout, throws naming `what` and the last
 * value or error seen.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? "a condition"} (last: ${detail})`,
      );
    }
    await pause(intervalMs);
  }
}
