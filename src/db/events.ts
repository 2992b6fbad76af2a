import { and, asc, eq, gt, isNull, lt, lte, max, or, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import {
  type ComposeRow,
  composes,
  type EventConsumerRow,
  type EventRow,
  eventConsumers,
  events,
} from "./schema.ts";

/** An event with the compose it is about (its row as it is now). */
export interface EventWithCompose {
  event: EventRow;
  compose: ComposeRow;
}

export interface EventFilter {
  composeId?: number;
  owner?: string;
  sourceType?: number;
}

/** Id of the newest event, 0 when there is none. */
export async function lastEventId(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ id: max(events.id) }).from(events);
  return row?.id ?? 0;
}

/**
 * Up to `limit` events with id > `after`, oldest first, each with its
 * compose row, optionally only those of composes matching `filter`.
 */
export async function listEventsAfter(
  db: DbOrTx,
  after: number,
  limit: number,
  filter: EventFilter = {},
): Promise<EventWithCompose[]> {
  const conds: SQL[] = [gt(events.id, after)];
  if (filter.composeId !== undefined) conds.push(eq(events.composeId, filter.composeId));
  if (filter.owner !== undefined) conds.push(eq(composes.owner, filter.owner));
  if (filter.sourceType !== undefined) conds.push(eq(composes.sourceType, filter.sourceType));
  const rows = await db
    .select({ event: events, compose: composes })
    .from(events)
    .innerJoin(composes, eq(composes.id, events.composeId))
    .where(and(...conds))
    .orderBy(asc(events.id))
    .limit(limit);
  return rows;
}

/** What the metrics count of an event (`metrics/event-metrics.ts`). */
export interface EventFacts {
  id: number;
  fromState: number | null;
  toState: number;
  at: number;
  stateReason: string | null;
  sourceType: number;
  timeSubmitted: number;
  timeStarted: number | null;
}

/**
 * Up to `limit` events with id > `after`, oldest first, with just what the
 * metrics count: a fraction of `listEventsAfter`'s rows to read and convert,
 * on the thread that answers requests, for every state change.
 */
export async function listEventFactsAfter(
  db: DbOrTx,
  after: number,
  limit: number,
): Promise<EventFacts[]> {
  return db
    .select({
      id: events.id,
      fromState: events.fromState,
      toState: events.toState,
      at: events.at,
      stateReason: events.stateReason,
      sourceType: composes.sourceType,
      timeSubmitted: composes.timeSubmitted,
      timeStarted: composes.timeStarted,
    })
    .from(events)
    .innerJoin(composes, eq(composes.id, events.composeId))
    .where(gt(events.id, after))
    .orderBy(asc(events.id))
    .limit(limit);
}

/** Delete events older than `before` (epoch ms); returns how many went. */
export async function pruneEvents(db: DbOrTx, before: number): Promise<number> {
  const gone = await db.delete(events).where(lt(events.at, before)).returning({ id: events.id });
  return gone.length;
}

/**
 * Register a durable consumer if it is new, starting after the newest event:
 * a consumer configured today does not replay the retained history.
 * Idempotent (several processes may start at once).
 */
export async function ensureEventConsumer(db: DbOrTx, name: string, now: number): Promise<void> {
  await db
    .insert(eventConsumers)
    .values({
      name,
      cursor: sql`(SELECT coalesce(max(${events.id}), 0) FROM ${events})`,
      updatedAt: now,
    })
    .onConflictDoNothing();
}

export async function findEventConsumer(
  db: DbOrTx,
  name: string,
): Promise<EventConsumerRow | undefined> {
  const [row] = await db.select().from(eventConsumers).where(eq(eventConsumers.name, name));
  return row;
}

export async function listEventConsumers(db: DbOrTx): Promise<EventConsumerRow[]> {
  return db.select().from(eventConsumers).orderBy(asc(eventConsumers.name));
}

/**
 * Take (or extend) the delivery lease of a consumer, unless another process
 * holds a live lease or a retry is not yet due. One conditional UPDATE, so
 * two processes never both hold it. Returns the row (with its cursor) or
 * `undefined`.
 */
export async function claimEventConsumer(
  db: DbOrTx,
  name: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<EventConsumerRow | undefined> {
  const [row] = await db
    .update(eventConsumers)
    .set({ leaseOwner: owner, leaseUntil: now + leaseMs, updatedAt: now })
    .where(
      and(
        eq(eventConsumers.name, name),
        lte(eventConsumers.retryAt, now),
        or(
          isNull(eventConsumers.leaseOwner),
          eq(eventConsumers.leaseOwner, owner),
          lt(eventConsumers.leaseUntil, now),
        ),
      ),
    )
    .returning();
  return row;
}

const heldBy = (name: string, owner: string) =>
  and(eq(eventConsumers.name, name), eq(eventConsumers.leaseOwner, owner));

/**
 * Move the cursor to `cursor` after a confirmed delivery and extend the
 * lease; false when the lease was lost (another process delivers now).
 */
export async function advanceEventConsumer(
  db: DbOrTx,
  name: string,
  owner: string,
  cursor: number,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const rows = await db
    .update(eventConsumers)
    .set({
      cursor: sql`max(${eventConsumers.cursor}, ${cursor})`,
      leaseUntil: now + leaseMs,
      attempts: 0,
      retryAt: 0,
      lastError: null,
      deliveredAt: now,
      updatedAt: now,
    })
    .where(heldBy(name, owner))
    .returning({ name: eventConsumers.name });
  return rows.length === 1;
}

/** Record a failed delivery: count it, keep the error, retry at `retryAt`, release the lease. */
export async function failEventConsumer(
  db: DbOrTx,
  name: string,
  owner: string,
  error: string,
  now: number,
  retryAt: number,
): Promise<void> {
  await db
    .update(eventConsumers)
    .set({
      attempts: sql`${eventConsumers.attempts} + 1`,
      lastError: error,
      retryAt,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
    })
    .where(heldBy(name, owner));
}

/** Give the lease up (shutdown), so another process takes over at once. */
export async function releaseEventConsumer(
  db: DbOrTx,
  name: string,
  owner: string,
  now: number,
): Promise<void> {
  await db
    .update(eventConsumers)
    .set({ leaseOwner: null, leaseUntil: null, updatedAt: now })
    .where(heldBy(name, owner));
}

/**
 * Per durable consumer: its cursor and the time of the oldest event it has
 * not delivered yet (`null` when it is up to date) — the delivery lag.
 */
export async function eventConsumerBacklog(
  db: DbOrTx,
): Promise<{ name: string; cursor: number; oldestPendingAt: number | null }[]> {
  return db
    .select({
      name: eventConsumers.name,
      cursor: eventConsumers.cursor,
      oldestPendingAt: sql<
        number | null
      >`(SELECT min(${events.at}) FROM ${events} WHERE ${events.id} > ${eventConsumers.cursor})`,
    })
    .from(eventConsumers)
    .orderBy(asc(eventConsumers.name));
}
