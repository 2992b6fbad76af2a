/**
 * The soak's checks (bench/soak-run.ts), apart from the run so they can be
 * pointed at any database and compose tree — test/bench/soak-check.test.ts
 * breaks a good state one way at a time and sees each check catch it.
 */
import type { Db } from "../src/db/client.ts";
import { composes, jobs } from "../src/db/schema.ts";
import { FINAL_STATES } from "../src/domain/transitions.ts";
import { eventChainProblems } from "../test/helpers/events.ts";
import {
  doubleCompletions,
  leftoverProblems,
  type ProcessOutput,
  publishedTreeProblems,
} from "../test/helpers/published-tree.ts";

export const STATE_NAMES: Record<number, string> = {
  0: "wait",
  1: "generating",
  2: "done",
  3: "removed",
  4: "failed",
};

export interface SoakFindings {
  /** Acknowledged composes that are absent, or unsettled with no job left to settle them. */
  lost: string[];
  /** Unsettled composes that still have a queued or running job. */
  stuck: string[];
  /** Published trees that are not exactly what `compose_rpms` says, or failed composes that published more than their log. */
  partial: string[];
  /** Jobs that two executions ran to completion. */
  double: string[];
  /** State changes without their event (or events without their change). */
  missingEvents: string[];
  /** Staging trees or trees being removed still there once all is settled and the sweep has run. */
  leftovers: string[];
  /**
   * Composes nobody was told of beyond the writes cut off by a kill: a
   * write refused (a 4xx, a 503) that was committed all the same.
   */
  unacknowledged: string[];
}

export interface SoakCheckInput {
  db: Db;
  targetDir: string;
  /** Ids the API acknowledged (200 to the POST). */
  acked: readonly number[];
  /** Writes (POST, PATCH, DELETE) cut off by a server kill after they were sent: each may have committed. */
  writesCutOff?: number;
  /** Each process's whole output (JSON log lines), by a name (its pid). */
  outputs: readonly ProcessOutput[];
  /** Now, for the job descriptions (ms). */
  now: number;
}

/** Every check of the soak over the database and compose tree as they are now. */
export async function checkSoak(input: SoakCheckInput): Promise<SoakFindings> {
  const { db, targetDir } = input;
  const rows = await db.select().from(composes);
  const jobRows = await db.select().from(jobs);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lost: string[] = [];
  const stuck: string[] = [];
  for (const id of input.acked)
    if (!byId.has(id)) lost.push(`compose ${id}: acknowledged but absent`);
  for (const r of rows) {
    if (FINAL_STATES.includes(r.state)) continue;
    const mine = jobRows.filter((j) => j.composeId === r.id);
    const live = mine.find((j) => j.state === "queued" || j.state === "running");
    const jobText = mine
      .map(
        (j) =>
          `job ${j.id} ${j.state} attempts ${j.attempts}/${j.maxAttempts}, run_at in ${((j.runAt - input.now) / 1000).toFixed(0)} s, locked_by ${j.lockedBy}, last error: ${j.lastError}`,
      )
      .join("; ");
    (live ? stuck : lost).push(
      `compose ${r.id}: ${STATE_NAMES[r.state]}${live ? " with a live job" : " and no job left to finish it"} (${jobText || "no jobs"})`,
    );
  }
  // The orphan dir of a compose marked removed just before a server kill is
  // deleted by a later sweep, which the soak's end may not wait for.
  const partial = await publishedTreeProblems(db, targetDir, { removedGone: false });
  const ackedSet = new Set(input.acked);
  const unknown = rows.filter((r) => !ackedSet.has(r.id)).map((r) => r.id);
  const unacknowledged =
    unknown.length > (input.writesCutOff ?? 0)
      ? [
          `${unknown.length} composes nobody was answered 200 for (${unknown.slice(0, 20).join(", ")}), but only ${input.writesCutOff ?? 0} writes were cut off`,
        ]
      : [];
  return {
    lost,
    stuck,
    partial,
    double: doubleCompletions(input.outputs),
    missingEvents: await eventChainProblems(db),
    leftovers: await leftoverProblems(targetDir),
    unacknowledged,
  };
}
