/**
 * Run by test/timeout-signal.test.ts as `node --expose-gc --import tsx
 * timeout-signal-child.ts <kind> <url> [no-gc]`: a fetch from `url` (a
 * server that never answers, or one that sends its headers and then
 * nothing) whose answer must come within 300 ms, while full garbage
 * collections run every 25 ms (none with `no-gc`). The body is read the way
 * a download reads it: only the body stream is kept, the `Response` is
 * dropped. Prints one JSON line once the fetch or its body ends:
 * `{"ended": "<error name>", "ms": …}`. A timeout that was collected never
 * ends it: the process then prints nothing and runs until killed.
 *
 * kind: `within` = `fetchWithin(url, {}, caller, 300)`, `within-alone` =
 * `fetchWithin(url, {}, undefined, 300)`, `signal` = `fetch` with
 * `timeoutSignal(caller, 300)` (ends a stall before the headers only),
 * `any` = `fetch` with `AbortSignal.any([caller, AbortSignal.timeout(300)])`
 * — what `timeoutSignal` replaced.
 */
import { webStreamChunks } from "../../src/rpm/decompress.ts";
import { fetchWithin, timeoutSignal } from "../../src/timeout-signal.ts";

const [kind, url, collect] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !url)
  throw new Error("usage: node --expose-gc --import tsx timeout-signal-child.ts <kind> <url>");
// A caller's signal that is never aborted, held for the whole run (as a job's is).
const caller = new AbortController();
// As our fetches are made: `redirect: "error"` (with it, undici's hold on
// the body's abort is lost to a collection; without it, it is not).
const init = { redirect: "error" } as const;
const fetches: Record<string, () => Promise<Response>> = {
  within: () => fetchWithin(url, init, caller.signal, 300),
  "within-alone": () => fetchWithin(url, init, undefined, 300),
  signal: () => fetch(url, { ...init, signal: timeoutSignal(caller.signal, 300) }),
  any: () =>
    fetch(url, { ...init, signal: AbortSignal.any([caller.signal, AbortSignal.timeout(300)]) }),
};
const start = fetches[kind ?? ""];
if (!start) throw new Error(`unknown kind ${kind}`);
/** The body alone: nothing holds the `Response` once this returns. */
const body = async () => (await start()).body;
const started = performance.now();
const collecting = setInterval(collect === "no-gc" ? () => {} : gc, 25);
try {
  const stream = await body();
  if (stream) for await (const _ of webStreamChunks(stream));
  process.stdout.write(`${JSON.stringify({ ended: "answered" })}\n`);
} catch (err) {
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`${JSON.stringify({ ended: (err as Error).name, ms })}\n`);
} finally {
  clearInterval(collecting);
  caller.abort();
}
