/**
 * `npm run soak [-- FLAGS]` (`--help` lists them, SOAK.usage below):
 * the soak-and-chaos harness (bench/soak-run.ts) at full size. Prints its
 * figures; the last line is the targets line; exits 1 if a target is missed.
 * `--crash-points SHARE` (`npm run soak:crash`: 0.5) arms that share of the
 * process starts at a random crash point (bench/soak-crash.ts).
 * `--fill-disk` puts the target dir (and/or the database's dir) on a
 * private tmpfs and fills it now and then while composes run
 * (bench/soak-disk.ts); the mounts go at the end, on Ctrl-C too.
 */
import { numberFlag, type ScriptArgs, scriptArgs, usageError } from "./cli-args.ts";
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

const SOAK: Pick<ScriptArgs, "name" | "usage"> = {
  name: "soak",
  usage: `usage: npm run soak [-- FLAGS]   (npm run soak:crash: --crash-points 0.5)

The soak-and-chaos harness: a server and N workers on one database, K composes,
a seeded chaos loop of kill -9, SIGSTOP past the lease and restarts. Prints its
figures; the last line is the targets line; exits 1 if a target is missed.

  --seed N             the chaos's and the mix's seed (${SOAK_DEFAULTS.seed})
  --workers N          worker processes (${SOAK_DEFAULTS.workers})
  --composes N         composes submitted (${SOAK_DEFAULTS.composes})
  --kill-every-ms N    mean gap between chaos actions (${SOAK_DEFAULTS.killEveryMs})
  --lease-ms N         ODCS_WORKER_LEASE_MS (${SOAK_DEFAULTS.leaseMs})
  --fault-rate X       share of proxied HTTP requests given a fault (${SOAK_DEFAULTS.faultRate})
  --drain-ms N         how long the queue may take to drain (${SOAK_DEFAULTS.drainMs})
  --ops-every-ms N     mean gap between user DELETEs and PATCHes (${SOAK_DEFAULTS.opsEveryMs})
  --max-attempts N     ODCS_JOB_MAX_ATTEMPTS of every process (5)
  --crash-points SHARE share of process starts armed at a random crash point (0)
  --fill-disk [target|db|target,db|data]
                       put those dirs on a private tmpfs and fill it now and then (target)
  --disk-mb N          size of each tmpfs (${DEFAULT_DISK_MB})
  --fill-every-ms N    mean gap between fills (${DEFAULT_FILL_EVERY_MS})
  --fill-for-ms N      mean time a disk stays full (${DEFAULT_FILL_FOR_MS})
  --keep DIR           keep the database, the trees and the logs in DIR
  --help               this text`,
};
const values = scriptArgs({
  ...SOAK,
  args: withFillDiskValue(process.argv.slice(2)),
  options: Object.fromEntries(
    [
      "seed",
      "workers",
      "composes",
      "kill-every-ms",
      "lease-ms",
      "fault-rate",
      "drain-ms",
      "ops-every-ms",
      "crash-points",
      "fill-disk",
      "max-attempts",
      "disk-mb",
      "fill-every-ms",
      "fill-for-ms",
      "keep",
    ].map((flag) => [flag, { type: "string" }] as const),
  ),
});
const num = (flag: string, fallback: number) => numberFlag(SOAK, values, flag, fallback);
const fillDisk = values["fill-disk"] === undefined ? undefined : parseFillDisk(values["fill-disk"]);
if (values["fill-disk"] !== undefined && !fillDisk)
  usageError(
    SOAK,
    `--fill-disk names target, db, target,db (or all) or data, not ${JSON.stringify(values["fill-disk"])}`,
  );
const report = await runSoak({
  seed: num("seed", SOAK_DEFAULTS.seed),
  workers: num("workers", SOAK_DEFAULTS.workers),
  composes: num("composes", SOAK_DEFAULTS.composes),
  killEveryMs: num("kill-every-ms", SOAK_DEFAULTS.killEveryMs),
  leaseMs: num("lease-ms", SOAK_DEFAULTS.leaseMs),
  faultRate: num("fault-rate", SOAK_DEFAULTS.faultRate),
  drainMs: num("drain-ms", SOAK_DEFAULTS.drainMs),
  opsEveryMs: num("ops-every-ms", SOAK_DEFAULTS.opsEveryMs),
  crashShare: num("crash-points", 0),
  maxAttempts: num("max-attempts", 5),
  ...(fillDisk && {
    fillDisk: {
      disks: fillDisk,
      diskMb: num("disk-mb", DEFAULT_DISK_MB),
      fillEveryMs: num("fill-every-ms", DEFAULT_FILL_EVERY_MS),
      fillForMs: num("fill-for-ms", DEFAULT_FILL_FOR_MS),
    },
  }),
  keepDir: values.keep,
  progress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
console.log(formatReport(report));
process.exit(meetsTargets(report) ? 0 : 1);
