/** Runs every benchmark under bench/ (`npm run bench`) and prints figures. */
import { benchCompose } from "./compose.ts";
import { benchKoji } from "./koji.ts";
import { benchRepodataLoad } from "./repodata-load.ts";
import { benchRpm } from "./rpm.ts";

const benches: [string, () => Promise<void>][] = [
  ["rpm", benchRpm],
  ["repodata-load", benchRepodataLoad],
  ["compose", benchCompose],
  ["koji", benchKoji],
];

for (const [name, run] of benches) {
  console.log(`# bench ${name}`);
  await run();
}
