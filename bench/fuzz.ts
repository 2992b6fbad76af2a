/**
 * `npm run fuzz [-- --seed N --runs N --parallel N --entry src/server.ts]`:
 * the hostile HTTP client of test/helpers/wire-fuzz.ts, long, against a
 * fresh server process. Prints runs, seconds, answers per status, 5xx,
 * the server's RSS and open descriptors before and after, and every
 * property broken (the request that broke it, as sent); exits 1 if one was.
 * The same seed sends the same requests; FUZZ_TRACE=1 prints each request
 * (as sent) and its answers, to find which one of a batch broke a property
 * (`--parallel 1` makes it the last one).
 */
import fc from "fast-check";
import { startService } from "../test/helpers/service.ts";
import { waitFor } from "../test/helpers/wait.ts";
import {
  exchange,
  FUZZ_SERVER_ENV,
  type FuzzFigures,
  fdsOf,
  fuzzBatch,
  rssOf,
  socketsOf,
  wireRequestArb,
} from "../test/helpers/wire-fuzz.ts";
import { numberFlag, type ScriptArgs, scriptArgs } from "./cli-args.ts";

const FUZZ: Pick<ScriptArgs, "name" | "usage"> = {
  name: "fuzz",
  usage: `usage: npm run fuzz [-- FLAGS]

The hostile HTTP client of test/helpers/wire-fuzz.ts against a fresh server
process. Prints answers per status, 5xx, the server's RSS and descriptors
before and after, and every property broken; exits 1 if one was.
FUZZ_TRACE=1 prints each request as sent and its answers.

  --seed N       the requests' seed (the same seed sends the same requests; default: the clock)
  --runs N       requests sent (5000)
  --parallel N   requests in flight at once (8; 1 makes a broken property's request the last one)
  --entry FILE   the server's entry (src/server.ts)
  --help         this text`,
};
const values = scriptArgs({
  ...FUZZ,
  options: {
    seed: { type: "string" },
    runs: { type: "string" },
    parallel: { type: "string" },
    entry: { type: "string" },
  },
});
const num = (flag: string, fallback: number) =>
  numberFlag(FUZZ, values, flag, fallback, { integer: true });
const seed = num("seed", Date.now() % 2 ** 31);
const runs = num("runs", 5000);
const parallel = Math.max(1, num("parallel", 8));
const entry = values.entry ?? "src/server.ts";

const svc = await startService({ entry, env: FUZZ_SERVER_ENV });
const pid = svc.child.pid ?? 0;
const port = Number(new URL(svc.url).port);
const arb = wireRequestArb(port);
const figures: FuzzFigures = { runs: 0, seconds: 0, statuses: {}, fiveXx: 0, violations: [] };
const progress = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

// Warm up (JIT, caches, the write thread) before the baselines.
await fuzzBatch(svc, fc.sample(arb, { seed: seed ^ 0x5eed, numRuns: 64 }), {
  ...figures,
  statuses: {},
  violations: [],
});
const rssBefore = rssOf(pid);
const fdsBefore = fdsOf(pid);
const socketsBefore = socketsOf(pid);
const start = Date.now();
const CHUNK = 400;
for (let done = 0, chunk = 0; done < runs && figures.violations.length === 0; chunk++) {
  const n = Math.min(CHUNK, runs - done);
  await fuzzBatch(svc, fc.sample(arb, { seed: seed + chunk, numRuns: n }), figures, parallel);
  done += n;
  progress(
    `${done}/${runs} sent; ${figures.fiveXx} 5xx; RSS ${(rssOf(pid) / 2 ** 20).toFixed(0)} MiB`,
  );
}
figures.seconds = (Date.now() - start) / 1000;
const rssAfter = rssOf(pid);
// Sockets of the last requests may still be closing.
await waitFor(() => fdsOf(pid) <= fdsBefore + 8, {
  timeoutMs: 15_000,
  what: "the server's descriptors to settle",
}).catch(() => {});
const fdsAfter = fdsOf(pid);
const socketsAfter = socketsOf(pid);
const probe = await exchange(
  port,
  {
    method: "GET",
    pieces: [Buffer.from("GET /api/1/composes/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")],
  },
  10_000,
);
await svc.stop();

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(
  `seed ${seed}, ${figures.runs} requests (${parallel} at a time) in ${figures.seconds.toFixed(1)} s`,
);
console.log(`answers by status: ${JSON.stringify(figures.statuses)}`);
console.log(`5xx: ${figures.fiveXx}`);
console.log(
  `server RSS ${mib(rssBefore)} → ${mib(rssAfter)}; descriptors ${fdsBefore} → ${fdsAfter} (sockets ${socketsBefore} → ${socketsAfter})`,
);
console.log(
  `GET /api/1/composes/ afterwards: ${probe.responses[0]?.status ?? "no answer"} in ${probe.elapsedMs} ms`,
);
for (const v of figures.violations) console.log(`BROKEN: ${v}`);
const ok = figures.violations.length === 0 && probe.responses[0]?.status === 200;
console.log(ok ? "all properties held" : "properties broken");
process.exit(ok ? 0 : 1);
