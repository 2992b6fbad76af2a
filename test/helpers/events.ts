import { asc } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { FINAL_STATES } from "../../src/domain/transitions.ts";

/**
 * What is wrong with the state history of every compose, as lines (empty
 * when all is well): its events must be one unbroken chain, created in
 * `wait` (from null) and each starting where the last one ended, ending in
 * the compose's current state with its current reason: exactly one event
 * per state change.
 */
export async function eventChainProblems(db: Db): Promise<string[]> {
  const rows = await db.select().from(composes).orderBy(asc(composes.id));
  const all = await db.select().from(events).orderBy(asc(events.id));
  const problems: string[] = [];
  for (const c of rows) {
    const chain = all.filter((e) => e.composeId === c.id);
    let at: number | null = null;
    for (const e of chain) {
      if (e.fromState !== at)
        problems.push(`compose ${c.id}: event ${e.id} ${e.fromState}->${e.toState} after ${at}`);
      at = e.toState;
    }
    if (chain.length === 0) problems.push(`compose ${c.id}: no events`);
    else if (chain[0]?.toState !== 0) problems.push(`compose ${c.id}: not created in wait`);
    if (at !== c.state) problems.push(`compose ${c.id}: state ${c.state}, last event to ${at}`);
    const last = chain.at(-1);
    if (last && last.stateReason !== c.stateReason)
      problems.push(`compose ${c.id}: reason ${c.stateReason} but last event ${last.stateReason}`);
  }
  return problems;
}

/** Composes not in a final state (done, failed, removed), and jobs still queued or running. */
export async function unsettled(db: Db): Promise<{ composes: number[]; jobs: number[] }> {
  const rows = await db.select().from(composes);
  const js = await db.select().from(jobs);
  return {
    composes: rows.filter((c) => !FINAL_STATES.includes(c.state)).map((c) => c.id),
    jobs: js.filter((j) => j.state === "queued" || j.state === "running").map((j) => j.id),
  };
}
