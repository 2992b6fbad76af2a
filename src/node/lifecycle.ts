import type { Logger } from "../api/deps.ts";
import { type Config, unknownVariables } from "../config.ts";
import { armCrashPoint } from "../crash-points.ts";
import { configFromProcess, createLogger } from "./runtime.ts";
import { endThreads } from "./thread-host.ts";

/** A started process part that can be stopped gracefully. */
export interface Stoppable {
  /** Stop taking work, let what runs finish within `graceMs`, release everything. */
  stop(graceMs: number): Promise<void>;
}

/** How long a thread that stopped its process at a crash point blocks itself (tests kill it meanwhile). */
const CRASH_STOP_WAIT_MS = 10_000;

/** Exit status after a crash (an unhandled rejection or uncaught exception). */
export const CRASH_EXIT_CODE = 70; // EX_SOFTWARE
/** Exit status after a second SIGTERM/SIGINT interrupts a graceful stop. */
export const INTERRUPTED_EXIT_CODE = 1;
/** How long an exit that does not wait for the work (a crash, a second signal) lets the process's threads end themselves. */
const THREADS_END_MS = 2_000;

/** Exit with `code` once the process's threads ended (`endThreads`), within `THREADS_END_MS`. */
let exiting = false;
function exitSoon(code: number): void {
  if (exiting) return;
  exiting = true;
  void endThreads(THREADS_END_MS).finally(() => process.exit(code));
}

/**
 * A second signal sooner than this after the first is the same request
 * delivered twice, not a second one: a signal to the process group (Ctrl-C,
 * a supervisor) also reaches the wrappers, and `npm run` forwards it and
 * `tsx` relays it to its child when the child is slow to confirm (30 ms: a
 * loaded machine) — the graceful stop was then cut short at once.
 */
export const REPEATED_SIGNAL_MS = 1_000;

function describe(err: unknown): Record<string, unknown> {
  return err instanceof Error
    ? { error: err.message, name: err.name, stack: err.stack }
    : { error: String(err) };
}

/** Log every `ODCS_*` variable nobody reads, with the nearest known name. */
export function warnUnknownVariables(env: Record<string, string | undefined>, log: Logger): void {
  for (const { name, closest } of unknownVariables(env))
    log.warn(`unknown setting ${name} is ignored; the closest known setting is ${closest}`, {
      setting: name,
      closest,
    });
}

/**
 * A rejection nobody handles or an exception nobody catches leaves the
 * process in an unknown state: log it as one JSON line and exit non-zero
 * as soon as its threads ended, at most `THREADS_END_MS` later (leases run
 * out and the jobs are requeued elsewhere).
 */
export function exitOnCrash(log: Logger): void {
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled promise rejection; exiting", describe(reason));
    exitSoon(CRASH_EXIT_CODE);
  });
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception; exiting", describe(err));
    exitSoon(CRASH_EXIT_CODE);
  });
}

/**
 * Tests only: ODCS_TEST_CRASH_AT=<point> (one of `CRASH_POINTS`) makes the
 * process log the point and stop itself with SIGSTOP when it gets there,
 * for the test to look and then kill -9 it. An unknown point exits 2.
 */
export function armCrashPointFromEnv(point: string | undefined, log: Logger): void {
  if (point === undefined || point === "") return;
  try {
    armCrashPoint(point, (p) => {
      log.warn(`crash point ${p} reached`, { pid: process.pid });
      process.kill(process.pid, "SIGSTOP");
      // The stop is the process's: another thread (the main one) may take the signal,
      // and this one would run on until that thread is scheduled — a write thread
      // stopped before a commit committed. Blocked here, it goes no further.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, CRASH_STOP_WAIT_MS);
    });
  } catch (err) {
    process.stderr.write(`odcs: ${(err as Error).message}\n`);
    process.exit(2);
  }
  log.warn(`test crash point ${point} armed (ODCS_TEST_CRASH_AT)`);
}

/**
 * Run one process of the service: read the config (exit 2 on a bad
 * setting), warn about unknown `ODCS_*` variables, exit non-zero on a
 * crash, start, and on the first SIGTERM/SIGINT stop gracefully within
 * ODCS_WORKER_GRACE_MS and exit 0; a second signal exits at once (one
 * within REPEATED_SIGNAL_MS of the first is that one again).
 */
export async function runProcess(
  component: string,
  start: (config: Config, log: Logger) => Promise<Stoppable>,
): Promise<void> {
  const config = configFromProcess();
  const log = createLogger(config.ODCS_LOG_LEVEL, component);
  exitOnCrash(log);
  warnUnknownVariables(process.env, log);
  armCrashPointFromEnv(process.env.ODCS_TEST_CRASH_AT, log);
  // Listening before start-up: a signal without a listener would kill the
  // process outright; one that comes while starting stops it right after.
  let running: Stoppable | undefined;
  let stopping = false;
  const stop = (r: Stoppable) => {
    const graceMs = config.ODCS_WORKER_GRACE_MS;
    r.stop(graceMs).then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("graceful stop failed", describe(err));
        process.exit(1);
      },
    );
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (performance.now() - firstSignalAt < REPEATED_SIGNAL_MS) {
        log.info("signal repeated at once: still stopping gracefully", { signal });
        return;
      }
      log.warn("second signal: exiting without waiting", { signal });
      exitSoon(INTERRUPTED_EXIT_CODE);
      return;
    }
    stopping = true;
    firstSignalAt = performance.now();
    log.info("stopping", { signal, graceMs: config.ODCS_WORKER_GRACE_MS });
    if (running) stop(running);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    running = await start(config, log);
  } catch (err) {
    log.error("start-up failed", describe(err));
    exitSoon(1);
    return;
  }
  if (stopping) stop(running);
}
