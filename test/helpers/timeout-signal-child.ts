/**
 * Run by test/timeout-signal.test.ts as `node --expose-gc --import tsx
 * timeout-signal-child.ts <kind> <url> [no-gc]`: a fetch from `url` (a
 * server that never answers) with a 300 ms timeout signal of `kind`, while
 * full garbage collections run every 25 ms (none with `no-gc`). Prints one JSON line once the fetch ends:
 * `{"ended": "<error name>", "ms": …}`. A timeout that was collected never
 * ends it: the process then prints nothing and runs until killed.
 *
 * kind: `ours` = `timeoutSignal(caller, 300)`, `ours-alone` =
 * `timeoutSignal(undefined, 300)`, `any` = `AbortSignal.any([caller,
 * AbortSignal.timeout(300)])` — what `timeoutSignal` replaced.
 */
import { timeoutSignal } from "../../src/timeout-signal.ts";

const [kind, url, collect] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !url)
  throw new Error("usage: node --expose-gc --import tsx timeout-signal-child.ts <kind> <url>");
// A caller's signal that is never aborted, held for the whole run (as a job's is).
const caller = new AbortController();
const signals: Record<string, () => AbortSignal> = {
  ours: () => timeoutSignal(caller.signal, 300),
  "ours-alone": () => timeoutSignal(undefined, 300),
  any: () => AbortSignal.any([caller.signal, AbortSignal.timeout(300)]),
};
const make = signals[kind ?? ""];
if (!make) throw new Error(`unknown kind ${kind}`);
const started = performance.now();
const collecting = setInterval(collect === "no-gc" ? () => {} : gc, 25);
try {
  const res = await fetch(url, { signal: make() });
  await res.arrayBuffer();
  process.stdout.write(`${JSON.stringify({ ended: "answered" })}\n`);
} catch (err) {
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`${JSON.stringify({ ended: (err as Error).name, ms })}\n`);
} finally {
  clearInterval(collecting);
  caller.abort();
}
