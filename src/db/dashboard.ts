import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  lt,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { type ComposeFilters, type ComposeOrder, ORDER_COLUMNS } from "./compose-list.ts";
import { type ComposeRow, composeCounts, composes, type EventRow, events, jobs } from "./schema.ts";

/**
 * The dashboard's reads that the API has no reader for. Every query is
 * bounded by an index range (checked by EXPLAIN QUERY PLAN in
 * test/db/dashboard.test.ts): none reads the whole composes or events table.
 */

/** Text search looks at the newest this many composes only (an id range on the primary key). */
export const SEARCH_WINDOW = 5000;
/** At most this many rows feed the generation-time percentiles of one chart. */
export const DURATION_SAMPLE = 20_000;
/** At most this many active jobs are listed on the queue page. */
export const QUEUE_LIMIT = 200;

function filterConds(filters: ComposeFilters): SQL[] {
  const conds: SQL[] = [];
  if (filters.owner !== undefined) conds.push(eq(composes.owner, filters.owner));
  if (filters.sourceType !== undefined) conds.push(eq(composes.sourceType, filters.sourceType));
  if (filters.source !== undefined) conds.push(eq(composes.source, filters.source));
  if (filters.state !== undefined) conds.push(eq(composes.state, filters.state));
  if (filters.label !== undefined) conds.push(eq(composes.label, filters.label));
  if (filters.composeType !== undefined) conds.push(eq(composes.composeType, filters.composeType));
  return conds;
}

const likeEscape = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * Composes among the newest `SEARCH_WINDOW` whose source or package list
 * contains `text` (case-insensitive for ASCII, SQLite LIKE), plus the other
 * filters; one page and the number of matches in the window.
 */
export async function searchComposes(
  db: DbOrTx,
  text: string,
  filters: ComposeFilters,
  order: ComposeOrder,
  page: number,
  perPage: number,
): Promise<{ rows: ComposeRow[]; total: number }> {
  const [top] = await db.select({ id: sql<number | null>`max(${composes.id})` }).from(composes);
  const q = searchQueries(db, top?.id ?? 0, text, filters, order, page, perPage);
  const [rows, counted] = await Promise.all([q.page, q.count]);
  return { rows, total: counted[0]?.n ?? 0 };
}

function searchQueries(
  db: DbOrTx,
  topId: number,
  text: string,
  filters: ComposeFilters,
  order: ComposeOrder,
  page: number,
  perPage: number,
) {
  const pattern = likeEscape(text);
  const where = and(
    gt(composes.id, topId - SEARCH_WINDOW),
    or(
      sql`${composes.source} LIKE ${pattern} ESCAPE '\\'`,
      sql`${composes.packages} LIKE ${pattern} ESCAPE '\\'`,
    ),
    ...filterConds(filters),
  );
  const dir = order.descending ? desc : asc;
  return {
    page: db
      .select()
      .from(composes)
      .where(where)
      .orderBy(dir(ORDER_COLUMNS[order.key]), dir(composes.id))
      .limit(perPage)
      .offset((page - 1) * perPage),
    count: db.select({ n: count() }).from(composes).where(where),
  };
}

/** The state changes of one compose, oldest first (events_compose_idx). */
export async function listComposeEvents(db: DbOrTx, composeId: number): Promise<EventRow[]> {
  return composeEventsQuery(db, composeId);
}
const composeEventsQuery = (db: DbOrTx, composeId: number) =>
  db
    .select()
    .from(events)
    .where(eq(events.composeId, composeId))
    .orderBy(asc(events.at), asc(events.id));

export interface ActiveJob {
  jobId: number;
  composeId: number;
  state: "queued" | "running";
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  runAt: number;
  leaseUntil: number | null;
  lastError: string | null;
}

const activeJobColumns = {
  jobId: jobs.id,
  composeId: jobs.composeId,
  state: jobs.state,
  attempts: jobs.attempts,
  maxAttempts: jobs.maxAttempts,
  lockedBy: jobs.lockedBy,
  runAt: jobs.runAt,
  leaseUntil: jobs.leaseUntil,
  lastError: jobs.lastError,
};

/** Queued and running jobs, oldest first, with their composes (jobs_claim_idx / jobs_lease_idx). */
export async function listActiveJobs(
  db: DbOrTx,
  limit = QUEUE_LIMIT,
): Promise<{ job: ActiveJob; compose: ComposeRow }[]> {
  return (await activeJobsQuery(db, limit)) as { job: ActiveJob; compose: ComposeRow }[];
}
const activeJobsQuery = (db: DbOrTx, limit: number) =>
  db
    .select({ job: activeJobColumns, compose: composes })
    .from(jobs)
    .innerJoin(composes, eq(composes.id, jobs.composeId))
    .where(inArray(jobs.state, ["queued", "running"]))
    .orderBy(asc(jobs.id))
    .limit(limit);

/** The queued or running job of one compose, if it has one (state index, not a scan of all jobs). */
export async function findActiveJob(db: DbOrTx, composeId: number): Promise<ActiveJob | undefined> {
  const [row] = await activeJobQuery(db, composeId);
  return row as ActiveJob | undefined;
}
const activeJobQuery = (db: DbOrTx, composeId: number) =>
  db
    .select(activeJobColumns)
    .from(jobs)
    .where(and(inArray(jobs.state, ["queued", "running"]), eq(jobs.composeId, composeId)))
    .orderBy(desc(jobs.id))
    .limit(1);

/** Composes waiting plus generating now (compose_counts, O(1)). */
export async function activeCount(db: DbOrTx): Promise<number> {
  const rows = await db
    .select({ n: composeCounts.n })
    .from(composeCounts)
    .where(and(eq(composeCounts.kind, "state"), inArray(composeCounts.key, ["0", "1"])));
  return rows.reduce((sum, r) => sum + r.n, 0);
}

/** Events with `at` in [from, to), oldest first (events_at_idx). */
export async function listEventsBetween(
  db: DbOrTx,
  from: number,
  to: number,
): Promise<Pick<EventRow, "at" | "fromState" | "toState">[]> {
  return eventsBetweenQuery(db, from, to);
}
const eventsBetweenQuery = (db: DbOrTx, from: number, to: number) =>
  db
    .select({ at: events.at, fromState: events.fromState, toState: events.toState })
    .from(events)
    .where(and(gte(events.at, from), lt(events.at, to)))
    .orderBy(asc(events.at), asc(events.id));

/**
 * Generation times (ms, done minus started) of composes finished in
 * [from, to), newest first, at most `DURATION_SAMPLE` (composes_time_done_idx).
 */
export async function listGenerationTimes(
  db: DbOrTx,
  from: number,
  to: number,
): Promise<{ sourceType: number; ms: number }[]> {
  return generationTimesQuery(db, from, to);
}
const generationTimesQuery = (db: DbOrTx, from: number, to: number) =>
  db
    .select({
      sourceType: composes.sourceType,
      ms: sql<number>`${composes.timeDone} - ${composes.timeStarted}`,
    })
    .from(composes)
    .where(
      and(gte(composes.timeDone, from), lt(composes.timeDone, to), isNotNull(composes.timeStarted)),
    )
    .orderBy(desc(composes.timeDone))
    .limit(DURATION_SAMPLE);

/** The SQL of each dashboard query, for EXPLAIN QUERY PLAN (test/db/dashboard.test.ts). */
export function dashboardQueriesSql(
  db: DbOrTx,
): Record<string, { sql: string; params: unknown[] }> {
  const order: ComposeOrder = { key: "id", descending: true };
  return {
    search: searchQueries(db, 100, "bash", {}, order, 1, 20).page.toSQL(),
    searchCount: searchQueries(db, 100, "bash", {}, order, 1, 20).count.toSQL(),
    searchFiltered: searchQueries(
      db,
      100,
      "bash",
      { state: 2, owner: "a" },
      order,
      1,
      20,
    ).page.toSQL(),
    composeEvents: composeEventsQuery(db, 1).toSQL(),
    activeJobs: activeJobsQuery(db, QUEUE_LIMIT).toSQL(),
    activeJob: activeJobQuery(db, 1).toSQL(),
    eventsBetween: eventsBetweenQuery(db, 0, 1).toSQL(),
    generationTimes: generationTimesQuery(db, 0, 1).toSQL(),
  };
}
