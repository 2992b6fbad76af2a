import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Logger } from "../api/deps.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { claimNextJob, findCanceledJobs, heartbeatJob, releaseJob, retryJob } from "../db/jobs.ts";
import type { JobRow } from "../db/schema.ts";
import { ComposeError, isRetryable } from "../sources/errors.ts";
import { sharedFilePlacer } from "../sources/place/file-placer.ts";
import { RepodataCache } from "../sources/repodata-cache.ts";
import { removeLeftovers } from "../sweep/leftovers.ts";
import { type RequeueMemory, requeueAndFailJobs } from "../sweep/requeue.ts";
import { retryDelayMs } from "./backoff.ts";
import {
  isDatabaseFull,
  isDatabaseUnavailable,
  STORED_RETRY_MAX_MS,
  untilStored,
} from "./db-outage.ts";
import { diskFullMessage, fullDirSettings, isDiskFull } from "./disk-full.ts";
import { discardCanceled } from "./handlers/cancel.ts";
import { discardStale, failGenerate, runGenerate } from "./handlers/generate.ts";
import type { JobContext, JobPoint } from "./handlers/types.ts";
import { LeaseLostError } from "./lease.ts";

export interface WorkerOptions {
  db: Db;
  config: Config;
  now: () => Date;
  log: Logger;
  workerId: string;
  /** Called after a compose's state change was committed (an API in the same process wakes its waiters). */
  onComposeChanged?: (composeId: number) => void;
  /** Test seam: awaited at named points of a job, to stop it there (`JobPoint`). */
  at?: (point: JobPoint, job: JobRow) => Promise<void>;
}

class ShutdownAbort extends Error {
  override name = "ShutdownAbort";
}

/** The job's compose was cancelled by a DELETE (its reason says by whom). */
export class CancelAbort extends Error {
  override name = "CancelAbort";
}

/**
 * Claims jobs from the queue and runs them, at most ODCS_WORKER_CONCURRENCY
 * at once. Polls every ODCS_WORKER_POLL_MS, and at once when `wake()` is
 * called (the API calls it after committing a job in the same process).
 */
export class Worker {
  readonly cache: RepodataCache;
  #running = new Map<
    number,
    {
      controller: AbortController;
      halt: AbortController;
      done: Promise<void>;
      composeId: number;
      attempts: number;
      /** When its lease was last extended (worker clock, ms). */
      beatAt: number;
      /** Extend its lease now; a lost lease aborts the job. */
      beat: () => Promise<void>;
    }
  >();
  #cancelCheck: NodeJS.Timeout | undefined;
  #checkingCancels = false;
  #checkAgain = false;
  #stopping = false;
  #wakeUp: (() => void) | null = null;
  #woken = false;
  #loop: Promise<void> | null = null;
  #requeueDue = Number.NEGATIVE_INFINITY;
  #requeueMemory: RequeueMemory = { refused: false };

  constructor(private readonly o: WorkerOptions) {
    this.cache = new RepodataCache(o.config.ODCS_CACHE_BUDGET_MB * 1024 * 1024);
  }

  start(): void {
    // The placement thread boots in ~0.1 s; not on the first compose's clock.
    sharedFilePlacer().warm();
    this.#loop ??= this.#run();
  }

  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  get busy(): number {
    return this.#running.size;
  }

  /**
   * Stop claiming; let running jobs finish within `graceMs`, then abort them
   * and give their jobs back to the queue.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    const all = Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const r of this.#running.values()) {
        r.controller.abort(new ShutdownAbort("worker shutting down"));
        r.halt.abort();
      }
      await all;
    }
  }

  /** Claim and start jobs until the slots are full or the queue is empty; returns how many started. */
  async fill(): Promise<number> {
    let started = 0;
    // Dead workers' jobs first, so a deployment of workers alone (no sweep
    // process) neither loses them nor leaves a compose on its last attempt
    // stuck in `generating`. Once per poll interval: a wake-up for a new job
    // should not wait for two UPDATEs that a lease (seconds) makes moot.
    const now = this.o.now().getTime();
    if (now >= this.#requeueDue) {
      this.#requeueDue = now + this.o.config.ODCS_WORKER_POLL_MS;
      await this.#renewOverdueLeases(now);
      await requeueAndFailJobs(
        {
          db: this.o.db,
          now: this.o.now,
          log: this.o.log,
          leaseMs: this.o.config.ODCS_WORKER_LEASE_MS,
          targetDir: this.o.config.ODCS_TARGET_DIR,
        },
        this.#requeueMemory,
      );
    }
    while (!this.#stopping && this.#running.size < this.o.config.ODCS_WORKER_CONCURRENCY) {
      const job = await claimNextJob(
        this.o.db,
        this.o.workerId,
        this.o.now().getTime(),
        this.o.config.ODCS_WORKER_LEASE_MS,
        [...this.#running.keys()],
      );
      if (!job) break;
      this.#start(job);
      started++;
      // Let the job get going (its first statements and file work queued)
      // before this thread spends time looking for another one.
      await yieldToLoop();
    }
    return started;
  }

  /** Wait until every running job has settled (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0)
      await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  async #run(): Promise<void> {
    // What crashed workers left (staging trees of settled composes, cut-short deletions).
    await removeLeftovers({
      db: this.o.db,
      log: this.o.log,
      targetDir: this.o.config.ODCS_TARGET_DIR,
      now: this.o.now,
      leaseMs: this.o.config.ODCS_WORKER_LEASE_MS,
    }).catch((err) => this.o.log.error("removing leftovers failed", { err: String(err) }));
    // While the database cannot take writes (its disk full), polls back off
    // to STORED_RETRY_MAX_MS and the outage is logged once, not every poll.
    let outage = 0;
    while (!this.#stopping) {
      let pollMs = this.o.config.ODCS_WORKER_POLL_MS;
      try {
        await this.fill();
        if (outage > 0) this.o.log.info("claiming jobs again", { failedPolls: outage });
        outage = 0;
      } catch (err) {
        if (!isDatabaseUnavailable(err))
          this.o.log.error("claiming jobs failed", { err: String(err) });
        else {
          if (outage === 0)
            this.o.log.warn("claiming jobs failed: the database cannot take writes", {
              err: String(err),
            });
          outage++;
          pollMs = Math.min(pollMs * 2 ** outage, Math.max(pollMs, STORED_RETRY_MAX_MS));
        }
      }
      if (this.#stopping) break;
      await new Promise<void>((resolve) => {
        if (this.#woken) return resolve();
        const timer = setTimeout(resolve, pollMs);
        this.#wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeUp = null;
      this.#woken = false;
    }
  }

  /**
   * Before this worker requeues anyone's expired job, it extends its own
   * leases that missed their heartbeat (the database could not take it, e.g.
   * its disk full): once writes work again its running jobs are renewed
   * first, not requeued by its own hand. Throws while the database still
   * refuses the write, so nothing is requeued until it takes them.
   */
  async #renewOverdueLeases(now: number): Promise<void> {
    const overdue = Math.max(250, Math.floor(this.o.config.ODCS_WORKER_LEASE_MS / 3)) * 1.5;
    for (const r of [...this.#running.values()]) if (now - r.beatAt > overdue) await r.beat();
  }

  #start(job: JobRow): void {
    const controller = new AbortController();
    const halt = new AbortController();
    const { db, config, workerId } = this.o;
    const entry = {
      controller,
      halt,
      done: Promise.resolve(),
      composeId: job.composeId,
      attempts: job.attempts,
      beatAt: this.o.now().getTime(),
      beat: async () => {
        const now = this.o.now().getTime();
        if (await heartbeatJob(db, job.id, workerId, now, config.ODCS_WORKER_LEASE_MS)) {
          entry.beatAt = now;
          return;
        }
        controller.abort(new LeaseLostError(`job ${job.id} lease lost`));
        halt.abort();
      },
    };
    this.#running.set(job.id, entry);
    entry.done = this.#execute(job, entry).finally(() => {
      this.#running.delete(job.id);
      if (this.#running.size === 0) {
        clearInterval(this.#cancelCheck);
        this.#cancelCheck = undefined;
      }
      if (!this.#stopping) this.wake();
    });
    this.#cancelCheck ??= setInterval(() => {
      void this.checkCancels();
    }, this.o.config.ODCS_WORKER_CANCEL_CHECK_MS);
  }

  /**
   * Abort the running jobs whose composes were cancelled (DELETE ends the
   * job in the same transaction as the compose). Runs every
   * ODCS_WORKER_CANCEL_CHECK_MS while jobs run, one read for all of them:
   * the heartbeat would notice too (its fenced write fails), but only
   * every third of the lease, and a shorter lease would cost a write per
   * job per tick. Returns the jobs it aborted.
   */
  async checkCancels(): Promise<number[]> {
    if (this.#running.size === 0) return [];
    if (this.#checkingCancels) {
      // The read in flight may predate the cancel that asked for this one.
      this.#checkAgain = true;
      return [];
    }
    this.#checkingCancels = true;
    try {
      const runs = [...this.#running].map(([id, r]) => ({ id, attempts: r.attempts }));
      const canceled = await findCanceledJobs(this.o.db, this.o.workerId, runs);
      for (const id of canceled) {
        const run = this.#running.get(id);
        if (!run || run.controller.signal.aborted) continue;
        this.o.log.info("job canceled, aborting it", { job: id });
        run.controller.abort(new CancelAbort(`job ${id} was canceled`));
      }
      return canceled;
    } catch (err) {
      this.o.log.warn("checking for canceled jobs failed", { err: String(err) });
      return [];
    } finally {
      this.#checkingCancels = false;
      if (this.#checkAgain) {
        this.#checkAgain = false;
        void this.checkCancels();
      }
    }
  }

  /**
   * A DELETE in this process cancelled compose `composeId` (its commit is
   * done): if this worker builds it, check now instead of at the next tick.
   * The check reads the job, so a stale or foreign id costs one read at most.
   */
  composeCanceled(composeId: number): void {
    if ([...this.#running.values()].some((r) => r.composeId === composeId))
      void this.checkCancels();
  }

  async #execute(
    job: JobRow,
    run: { controller: AbortController; halt: AbortController; beat: () => Promise<void> },
  ): Promise<void> {
    const { db, config, log, workerId } = this.o;
    const { controller, halt } = run;
    const heartbeat = setInterval(
      () => {
        run.beat().catch((err) => log.warn("heartbeat failed", { job: job.id, err: String(err) }));
      },
      Math.max(250, Math.floor(config.ODCS_WORKER_LEASE_MS / 3)),
    );
    const timeoutSeconds = config.ODCS_GENERATE_TIMEOUT_SECONDS;
    const timeout = setTimeout(
      () =>
        controller.abort(
          new ComposeError(
            `Compose has taken more time than allowed by configuration (${timeoutSeconds} seconds)`,
          ),
        ),
      timeoutSeconds * 1000,
    );
    const ctx: JobContext = {
      db,
      config,
      now: this.o.now,
      workerId,
      job,
      cache: this.cache,
      signal: controller.signal,
      composeChanged: () => this.o.onComposeChanged?.(job.composeId),
      untilStored: (what, write) => untilStored(write, { halt: halt.signal, log, what }),
      at: async (point) => {
        await this.o.at?.(point, job);
      },
      assertLease: async () => {
        if (!halt.signal.aborted) await run.beat();
        if (halt.signal.aborted) throw new LeaseLostError(`job ${job.id} lease lost`);
      },
    };
    log.info("job started", { job: job.id, compose: job.composeId, attempt: job.attempts });
    try {
      await runGenerate(job.composeId, ctx);
      log.info("job done", { job: job.id, compose: job.composeId });
    } catch (thrown) {
      const reason = controller.signal.aborted ? controller.signal.reason : thrown;
      await this.#settleFailure(job, reason, ctx).catch(async (err) => {
        if (err instanceof LeaseLostError) {
          log.warn("job lease lost before its failure was recorded; another worker owns it", {
            job: job.id,
            compose: job.composeId,
          });
          await this.#discardStale(job, ctx);
        } else
          log.error("settling a job failure failed", {
            job: job.id,
            compose: job.composeId,
            err: String(err),
          });
      });
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
    }
  }

  /** A job this worker lost: its own trees go, the link shows the database's choice (`discardStale`). */
  async #discardStale(job: JobRow, ctx: JobContext): Promise<void> {
    await discardStale(job.composeId, ctx).catch((err) =>
      this.o.log.warn("clearing the trees of a lost job failed", {
        job: job.id,
        compose: job.composeId,
        err: String(err),
      }),
    );
  }

  async #settleFailure(job: JobRow, err: unknown, ctx: JobContext): Promise<void> {
    const { db, log, workerId } = this.o;
    // Whatever the job was doing when it stopped (aborted by the check, or
    // fenced out at its commit by the cancel's transaction): the compose
    // is failed "Canceled by …" already and stays so; only files to clear.
    // A read that fails counts as "not cancelled": the fenced writes below decide.
    const canceled = await findCanceledJobs(db, workerId, [job]).catch(() => []);
    if (canceled.length > 0) {
      await discardCanceled(job.composeId, ctx);
      log.info("job canceled; nothing published", { job: job.id, compose: job.composeId });
      return;
    }
    const now = this.o.now().getTime();
    const diskFull = isDiskFull(err);
    const raw = err instanceof Error ? err.message : String(err);
    const message = diskFull ? diskFullMessage(raw, fullDirSettings(err, this.o.config)) : raw;
    if (err instanceof LeaseLostError) {
      log.warn("job lease lost; another worker owns it", { job: job.id });
      await this.#discardStale(job, ctx);
      return;
    }
    if (err instanceof ShutdownAbort) {
      await releaseJob(db, job.id, workerId, now);
      log.info("job released at shutdown", { job: job.id });
      return;
    }
    const store = ctx.untilStored ?? ((_what, write) => write());
    if (isDatabaseFull(err)) {
      // A write of the compose's own progress could not be stored (the
      // database's disk full): not the compose's failure. Once the database
      // takes writes again the job goes back to the queue with its attempt
      // given back, to start over. (Other storage failures — a lock held
      // too long, an I/O error — are retried like any error, using attempts,
      // so a database that never works cannot rerun a job forever.)
      if (
        !(await store("job release", () =>
          releaseJob(db, job.id, workerId, this.o.now().getTime()),
        ))
      )
        throw new LeaseLostError(`job ${job.id} lease lost before its release was recorded`);
      log.warn("job given back: the database could not store its progress", {
        job: job.id,
        err: message,
      });
      return;
    }
    // Unknown errors (a busy database, a full disk) may pass; ComposeErrors say for themselves.
    const retry = diskFull || (err instanceof ComposeError ? isRetryable(err) : true);
    if (retry && job.attempts < job.maxAttempts) {
      const retried = await store("job retry", () =>
        retryJob(db, job.id, workerId, message, now, now + retryDelayMs(job.attempts)),
      );
      if (!retried)
        throw new LeaseLostError(`job ${job.id} lease lost before its retry was recorded`);
      log.warn("job failed, will retry", { job: job.id, attempt: job.attempts, err: message });
      return;
    }
    log.warn("compose failed", { job: job.id, compose: job.composeId, err: message });
    await failGenerate(job.composeId, message, ctx);
  }
}
