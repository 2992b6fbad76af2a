/**
 * `npm run soak [-- --seed N --workers N --composes N --kill-every-ms N --lease-ms N --fault-rate X --drain-ms N --ops-every-ms N --crash-points SHARE --max-attempts N --fill-disk [target|db|target,db|data] --disk-mb N --fill-every-ms N --fill-for-ms N --keep DIR]`:
 * the soak-and-chaos harness (bench/soak-run.ts) at full size. Prints its
 * figures; the last line is the targets line; exits 1 if a target is missed.
 * `--crash-points SHARE` (`npm run soak:crash`: 0.5) arms that share of the
 * process starts at a random crash point (bench/soak-crash.ts).
 * `--fill-disk` puts the target dir (and/or the database's dir) on a
 * private tmpfs and fills it now and then while composes run
 * (bench/soak-disk.ts); the mounts go at the end, on Ctrl-C too.
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_DISK_MB,
  DEFAULT_FILL_EVERY_MS,
  DEFAULT_FILL_FOR_MS,
  parseFillDisk,
  unmountSoakDisks,
  withFillDiskValue,
} from "./soak-disk.ts";
import { formatReport, meetsTargets, runSoak, SOAK_DEFAULTS } from "./soak-run.ts";

// Ctrl-C or a kill: the exit handlers kill the processes and unmount the disks (a
// watchdog of each disk unmounts it if this process is killed before: bench/soak-disk.ts).
// Deferred: tsx kills its child with SIGKILL unless the child's own signal report,
// which a busy event loop would hold back, reaches it within 30 ms.
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      unmountSoakDisks();
      process.exit(130);
    }, 50);
  });

const { values } = parseArgs({
  args: withFillDiskValue(process.argv.slice(2)),
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
    "fill-disk": { type: "string" },
    "max-attempts": { type: "string" },
    "disk-mb": { type: "string" },
    "fill-every-ms": { type: "string" },
    "fill-for-ms": { type: "string" },
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
const fillDisk = values["fill-disk"] === undefined ? undefined : parseFillDisk(values["fill-disk"]);
if (values["fill-disk"] !== undefined && !fillDisk) {
  console.error(
    `soak: --fill-disk names target, db, target,db (or all) or data, not ${JSON.stringify(values["fill-disk"])}`,
  );
  process.exit(2);
}
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
  maxAttempts: num(values["max-attempts"], 5, "max-attempts"),
  ...(fillDisk && {
    fillDisk: {
      disks: fillDisk,
      diskMb: num(values["disk-mb"], DEFAULT_DISK_MB, "disk-mb"),
      fillEveryMs: num(values["fill-every-ms"], DEFAULT_FILL_EVERY_MS, "fill-every-ms"),
      fillForMs: num(values["fill-for-ms"], DEFAULT_FILL_FOR_MS, "fill-for-ms"),
    },
  }),
  keepDir: values.keep,
  progress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
console.log(formatReport(report));
process.exit(meetsTargets(report) ? 0 : 1);
