/**
 * The soak's checks (bench/soak-run.ts), apart from the run so they can be
 * pointed at any database and compose tree — test/bench/soak-check.test.ts
 * breaks a good state one way at a time and sees each check catch it.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../src/db/client.ts";
import { listComposeRpms } from "../src/db/compose-rpms.ts";
import { composes, jobs } from "../src/db/schema.ts";
import { FINAL_STATES } from "../src/domain/transitions.ts";
import { eventChainProblems } from "../test/helpers/events.ts";

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
}

export interface SoakCheckInput {
  db: Db;
  targetDir: string;
  /** Ids the API acknowledged (200 to the POST). */
  acked: readonly number[];
  /** Each process's whole output (JSON log lines), by a name (its pid). */
  outputs: readonly { name: string; output: string }[];
  /** Now, for the job descriptions (ms). */
  now: number;
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/**
 * A job "run to completion" is one whose execution committed its outcome
 * and logged `job done` (src/worker/loop.ts); two such lines for one job,
 * from any processes, are a double completion.
 */
export function doubleCompletions(outputs: SoakCheckInput["outputs"]): string[] {
  const doneBy = new Map<number, string[]>();
  for (const p of outputs) {
    for (const line of p.output.split("\n")) {
      if (!line.includes('"job done"')) continue;
      try {
        const j = JSON.parse(line) as { msg: string; job: number };
        if (j.msg !== "job done") continue;
        doneBy.set(j.job, [...(doneBy.get(j.job) ?? []), p.name]);
      } catch {
        // a line cut by kill -9
      }
    }
  }
  return [...doneBy.entries()]
    .filter(([, by]) => by.length > 1)
    .map(([job, by]) => `job ${job} completed by processes ${by.join(", ")}`);
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
  const partial: string[] = [];
  for (const r of rows) {
    const dir = join(targetDir, `odcs-${r.id}`);
    if (r.state === 4) {
      if (existsSync(dir)) {
        const files = readdirSync(dir).filter((f) => f !== "pungi-stderr.log");
        if (files.length > 0)
          partial.push(`compose ${r.id} (failed): published ${files.join(", ")}`);
      }
      continue;
    }
    if (r.state !== 2) continue;
    if (r.reusedId !== null) {
      // A reuser's URLs name the original's tree: it must be there, whole.
      const status = join(targetDir, `odcs-${r.reusedId}`, "STATUS");
      if (!existsSync(status) || readFileSync(status, "utf8").trim() !== "FINISHED")
        partial.push(`compose ${r.id}: reuses compose ${r.reusedId}, whose tree is not there`);
      continue;
    }
    const expected = await listComposeRpms(db, r.id);
    if (expected.length === 0) partial.push(`compose ${r.id}: done with no compose_rpms`);
    const want = new Set(expected.map((x) => join(x.treeArch, "os", x.path)));
    const tree = join(dir, "compose", "Temporary");
    const have = new Set<string>();
    if (existsSync(tree))
      for (const f of readdirSync(tree, { recursive: true }).map(String))
        if (f.endsWith(".rpm")) have.add(f);
    for (const f of want) if (!have.has(f)) partial.push(`compose ${r.id}: ${f} missing`);
    for (const f of have)
      if (!want.has(f)) partial.push(`compose ${r.id}: ${f} not in compose_rpms`);
    for (const x of expected) {
      const file = join(tree, x.treeArch, "os", x.path);
      if (
        x.checksumType === "sha256" &&
        x.checksum &&
        existsSync(file) &&
        sha256(file) !== x.checksum
      )
        partial.push(`compose ${r.id}: ${x.path} differs from its checksum`);
    }
    for (const arch of new Set(expected.map((x) => x.treeArch)))
      if (!existsSync(join(tree, arch, "os", "repodata", "repomd.xml")))
        partial.push(`compose ${r.id}: ${arch} has no repodata`);
    if (r.regenerateOf !== null) {
      // A renewal of a removed or failed compose: the same package set, if it had one.
      const before = await listComposeRpms(db, r.regenerateOf);
      const key = (x: { treeArch: string; path: string }) => `${x.treeArch}/${x.path}`;
      const was = before.map(key).sort().join(" ");
      if (before.length > 0 && was !== expected.map(key).sort().join(" "))
        partial.push(`compose ${r.id}: regenerates compose ${r.regenerateOf} with other packages`);
    }
    const status = join(dir, "STATUS");
    if (!existsSync(status) || readFileSync(status, "utf8").trim() !== "FINISHED")
      partial.push(`compose ${r.id}: STATUS is not FINISHED`);
  }
  return {
    lost,
    stuck,
    partial,
    double: doubleCompletions(input.outputs),
    missingEvents: await eventChainProblems(db),
  };
}
