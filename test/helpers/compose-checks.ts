/**
 * Whole-service checks on a compose database and its target dir, shared by
 * the fault tests: the published trees (published-tree.ts, the one checker)
 * and each state change recorded by one event.
 */
import type { Db } from "../../src/db/client.ts";
import { eventChainProblems } from "./events.ts";
import { publishedTreeProblems } from "./published-tree.ts";

export { doubleCompletions } from "./published-tree.ts";

/** Tree and event problems together, as lines (empty when all is well). */
export async function serviceProblems(db: Db, target: string): Promise<string[]> {
  return [...(await publishedTreeProblems(db, target)), ...(await eventChainProblems(db))];
}
