/**
 * What must hold after any crash once the service has recovered, as lines
 * naming each violation (empty when all is well), and the means to stop a
 * process at a crash point (`ODCS_TEST_CRASH_AT`, src/crash-points.ts).
 * The trees, leftovers and double completions are checked by
 * published-tree.ts.
 */
import { readFileSync } from "node:fs";
import type { CrashPoint } from "../../src/crash-points.ts";
import type { Db } from "../../src/db/client.ts";
import { composes, jobs } from "../../src/db/schema.ts";
import { FINAL_STATES } from "../../src/domain/transitions.ts";
import { eventChainProblems } from "./events.ts";
import type { ServiceProcess } from "./service.ts";
import { waitFor } from "./wait.ts";

/** The process's state letter in /proc (T: stopped), or undefined once it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Wait until `proc` has stopped itself at `point` (logged, then SIGSTOP). */
export async function stoppedAt(
  proc: ServiceProcess,
  point: CrashPoint,
  timeoutMs = 20_000,
): Promise<void> {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error("no pid");
  await waitFor(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`exited:\n${proc.output()}`);
      return proc.output().includes(`crash point ${point} reached`) && procState(pid) === "T";
    },
    { timeoutMs, intervalMs: 10, what: `the process to stop at ${point}` },
  );
}

/** Composes not final, jobs still live, broken event chains. */
export async function stateProblems(db: Db): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await db.select().from(composes))
    if (!FINAL_STATES.includes(r.state)) problems.push(`compose ${r.id}: state ${r.state}`);
  for (const j of await db.select().from(jobs))
    if (j.state === "queued" || j.state === "running")
      problems.push(`job ${j.id}: still ${j.state}`);
  return [...problems, ...(await eventChainProblems(db))];
}
