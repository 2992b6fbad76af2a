import { pruneEvents } from "../db/events.ts";
import type { SweepDeps } from "./expire.ts";

export const DEFAULT_EVENTS_RETENTION_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * Delete event rows older than the retention (ODCS_EVENTS_RETENTION_DAYS).
 * A durable consumer that has been failing for longer loses those events;
 * a stream resumed from an older id starts at the oldest retained one.
 */
export async function pruneOldEvents(deps: SweepDeps): Promise<number> {
  const days = deps.eventsRetentionDays ?? DEFAULT_EVENTS_RETENTION_DAYS;
  const pruned = await pruneEvents(deps.db, deps.now().getTime() - days * DAY_MS);
  if (pruned > 0) deps.log.info("events pruned", { count: pruned, retention_days: days });
  return pruned;
}
