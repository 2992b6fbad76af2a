/** Runs every benchmark under bench/ (`npm run bench`) and prints figures. */
import { benchApi } from "./api.ts";
import { answerHelp, usageError } from "./cli-args.ts";
import { benchCompose } from "./compose.ts";
import { benchEdge } from "./edge.ts";
import { benchFlood } from "./flood.ts";
import { benchKoji } from "./koji.ts";
import { benchRepodataLoad } from "./repodata-load.ts";
import { benchRpm } from "./rpm.ts";

const benches: [string, () => Promise<void>][] = [
  ["rpm", benchRpm],
  ["repodata-load", benchRepodataLoad],
  ["compose", benchCompose],
  ["api", benchApi],
  ["koji", benchKoji],
  ["edge", benchEdge],
  ["flood", benchFlood],
];

// `npm run bench -- api` runs only the named benches; no names runs them all.
const BENCH = {
  name: "bench",
  usage: `usage: npm run bench [-- NAME ...]\n\nRuns the named benchmarks (all without a name) and prints their figures.\nNames: ${benches.map(([name]) => name).join(", ")}`,
};
const only = process.argv.slice(2);
answerHelp(BENCH, only);
const unknown = only.filter((name) => !benches.some(([known]) => known === name));
if (unknown.length > 0) usageError(BENCH, `no benchmark named ${unknown.join(", ")}`);
for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`# bench ${name}`);
  await run();
}
