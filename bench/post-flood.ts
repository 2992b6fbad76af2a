/**
 * The flood of bench/flood.ts, as a process of its own (so the POSTs' client
 * does not share a thread with what measures): `node --import tsx
 * bench/post-flood.ts <base url> <count> <in flight>` POSTs `count` repo
 * composes, `in flight` at a time, then prints `{"seconds":…,"non200":…}`.
 */
const [base, countArg, inFlightArg] = process.argv.slice(2);
const count = Number(countArg);
const inFlight = Number(inFlightArg);
const body = JSON.stringify({ source: { type: "repo", source: "/srv/none" } });
let sent = 0;
let non200 = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (sent < count) {
      sent++;
      const r = await fetch(`${base}/api/1/composes/`, { method: "POST", body });
      await r.arrayBuffer();
      if (r.status !== 200) non200++;
    }
  }),
);
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000, non200 })}\n`);
