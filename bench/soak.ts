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
/** A flag's number, or exit 2 naming it: a typo must not run (and pass) a soak of NaN composes. */
const num = (v: string | undefined, d: number, name: string) => {
  if (v === undefined) return d;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    console.error(`soak: --${name} must be a number ≥ 0, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
const report = await runSoak({
  seed: num(values.seed, SOAK_DEFAULTS.seed, "seed"),
  workers: num(values.workers, SOAK_DEFAULTS.workers, "workers"),
  composes: num(values.composes, SOAK_DEFAULTS.composes, "composes"),
  killEveryMs: num(values["kill-every-ms"], SOAK_DEFAULTS.killEveryMs, "kill-every-ms"),
  leaseMs: num(values["lease-ms"], SOAK_DEFAULTS.leaseMs, "lease-ms"),
  faultRate: num(values["fault-rate"], SOAK_DEFAULTS.faultRate, "fault-rate"),
  drainMs: num(values["drain-ms"], SOAK_DEFAULTS.drainMs, "drain-ms"),
  opsEveryMs: num(values["ops-every-ms"], SOAK_DEFAULTS.opsEveryMs, "ops-every-ms"),
  crashShare: num(values["crash-points"], 0, "crash-points"),
  keepDir: values.keep,
  progress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
console.log(formatReport(report));
process.exit(meetsTargets(report) ? 0 : 1);
