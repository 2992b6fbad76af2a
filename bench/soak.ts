/**
 * `npm run soak [-- --seed N --workers N --composes N --kill-every-ms N --lease-ms N --fault-rate X --drain-ms N --ops-every-ms N --crash-points SHARE --keep DIR]`:
 * the soak-and-chaos harness (bench/soak-run.ts) at full size. Prints its
 * figures; the last line is the targets line; exits 1 if a target is missed.
 * `--crash-points SHARE` (`npm run soak:crash`: 0.5) arms that share of the
 * process starts at a random crash point (bench/soak-crash.ts).
 */
import { parseArgs } from "node:util";
import { formatReport, meetsTargets, runSoak, SOAK_DEFAULTS } from "./soak-run.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    workers: { type: "string" },
    composes: { type: "string" },
    "kill-every-ms": { type: "string" },
    "lease-ms": { type: "string" },
    "fault-rate": { type: "string" },
    "drain-ms": { type: "string" },
    "ops-every-ms": { type: "string" },
    "crash-points": { type: "string" },
    keep: { type: "string" },
  },
});
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const report = await runSoak({
  seed: num(values.seed, SOAK_DEFAULTS.seed),
  workers: num(values.workers, SOAK_DEFAULTS.workers),
  composes: num(values.composes, SOAK_DEFAULTS.composes),
  killEveryMs: num(values["kill-every-ms"], SOAK_DEFAULTS.killEveryMs),
  leaseMs: num(values["lease-ms"], SOAK_DEFAULTS.leaseMs),
  faultRate: num(values["fault-rate"], SOAK_DEFAULTS.faultRate),
  drainMs: num(values["drain-ms"], SOAK_DEFAULTS.drainMs),
  opsEveryMs: num(values["ops-every-ms"], SOAK_DEFAULTS.opsEveryMs),
  crashShare: num(values["crash-points"], 0),
  keepDir: values.keep,
  progress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
console.log(formatReport(report));
process.exit(meetsTargets(report) ? 0 : 1);
