import {
  and,
  asc,
  eq,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  ne,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import { alias, SQLiteTransaction } from "drizzle-orm/sqlite-core";
import { NotFoundError, TooManyRequestsError } from "../domain/errors.ts";
import { COMPOSE_STATES, type ComposeStateName } from "../domain/states.ts";
import { canTransition, REASONS, removalReason } from "../domain/transitions.ts";
import type { Db, DbOrTx } from "./client.ts";
import { enqueueJob } from "./jobs.ts";
import { type ComposeRow, composes, events, type NewComposeRow } from "./schema.ts";

/**
 * Queries built once per database handle. Drizzle builds the SQL anew for
 * every call otherwise; these run for every GET, every wait and wake-up.
 */
const prepared = new WeakMap<DbOrTx, Map<string, unknown>>();
function preparedQuery<T>(db: DbOrTx, name: string, build: (db: DbOrTx) => T): T {
  let byName = prepared.get(db);
  if (!byName) {
    byName = new Map();
    prepared.set(db, byName);
  }
  let query = byName.get(name) as T | undefined;
  if (query === undefined) {
    query = build(db);
    byName.set(name, query);
  }
  return query;
}

const composeById = (db: DbOrTx) =>
  db
    .select()
    .from(composes)
    .where(eq(composes.id, sql.placeholder("id")))
    .limit(1)
    .prepare();
const stateById = (db: DbOrTx) =>
  db
    .select({ state: composes.state })
    .from(composes)
    .where(eq(composes.id, sql.placeholder("id")))
    .prepare();

export async function findCompose(db: DbOrTx, id: number): Promise<ComposeRow | undefined> {
  const rows = await preparedQuery(db, "composeById", composeById).all({ id });
  return rows[0];
}

/**
 * Just the state code, or `undefined` for no such compose. Reading the whole
 * row costs ~0.25 ms (45 columns mapped one by one), this ~0.05 ms.
 */
export async function findComposeState(db: DbOrTx, id: number): Promise<number | undefined> {
  const rows = await preparedQuery(db, "stateById", stateById).all({ id });
  return rows[0]?.state;
}

/** Throws `NotFoundError` with ODCS's GET/DELETE wording. */
export async function getCompose(db: DbOrTx, id: number): Promise<ComposeRow> {
  const row = await findCompose(db, id);
  if (!row) throw new NotFoundError("No such compose found.");
  return row;
}

async function recordEvent(
  tx: DbOrTx,
  composeId: number,
  from: number | null,
  row: Pick<ComposeRow, "state" | "stateReason">,
  at: number,
) {
  await tx
    .insert(events)
    .values({ composeId, fromState: from, toState: row.state, stateReason: row.stateReason, at });
}

/**
 * Create a compose in `wait` together with its generate job and its first
 * event, in one transaction: either all three exist or none.
 */
export async function createComposeWithJob(
  db: Db,
  values: Omit<NewComposeRow, "id" | "state">,
  opts: { now: number; maxAttempts: number; maxQueuedPerOwner?: number | undefined },
): Promise<ComposeRow> {
  return db.transaction(
    async (tx) => {
      // Counted in the write transaction, so processes racing past the limit cannot all pass.
      if (opts.maxQueuedPerOwner !== undefined)
        await checkQueuedLimit(tx, values.owner, opts.maxQueuedPerOwner);
      const [row] = await tx
        .insert(composes)
        .values({ ...values, state: COMPOSE_STATES.wait })
        .returning();
      if (!row) throw new Error("insert into composes returned no row");
      await enqueueJob(tx, {
        composeId: row.id,
        kind: "generate",
        now: opts.now,
        maxAttempts: opts.maxAttempts,
      });
      await recordEvent(tx, row.id, null, row, opts.now);
      return row;
    },
    { behavior: "immediate" },
  );
}

/** Seconds a client refused by the queue limit is told to wait (`Retry-After`). */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 30;

/**
 * Refuse a new compose when `owner` already has `max` waiting ones. Counts at
 * most `max` rows off the (owner, state) index, so a flood of waiting composes
 * does not make each refusal dearer.
 */
async function checkQueuedLimit(tx: DbOrTx, owner: string, max: number): Promise<void> {
  const [row] = await tx.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM (SELECT 1 FROM composes WHERE owner = ${owner} AND state = ${COMPOSE_STATES.wait} LIMIT ${max})`,
  );
  if ((row?.n ?? 0) >= max)
    throw new TooManyRequestsError(
      `${owner} already has ${max} composes waiting (ODCS_MAX_QUEUED_PER_OWNER); try again when some have started`,
      QUEUE_FULL_RETRY_AFTER_SECONDS,
    );
}

export interface TransitionPatch {
  stateReason?: string | null;
  removedBy?: string | null;
  kojiEvent?: number | null;
  pungiComposeId?: string | null;
  reusedId?: number | null;
  sourcePins?: string | null;
  /** The tree served at `odcs-<id>` (worker/published.ts): set by the commit that settles the compose. */
  publishedAttempt?: string | null;
  /** Rewritten by sources that learn them at generation: pulp's arches, sigkeys and found repos, a module compose's resolved NSVCs (ODCS rewrites `source`, §10.3); a pungi_compose's arches, builds, packages and sigkeys from its metadata. */
  arches?: string;
  builds?: string;
  packages?: string;
  sigkeys?: string;
  source?: string;
}

function transitionSet(to: ComposeStateName, now: number, patch: TransitionPatch) {
  const set: Record<string, unknown> = { state: COMPOSE_STATES[to], ...patch };
  if (to === "generating") set.timeStarted = now;
  if (to === "done") set.timeDone = now;
  if (to === "removed") set.timeRemoved = now;
  if (to === "done" || to === "failed") {
    // The lifetime counts from completion (§10.1).
    set.timeToExpire = sql`${now} + (${composes.timeToExpire} - ${composes.timeSubmitted})`;
  }
  return set;
}

/**
 * Move compose `id` from `from` (one state or any of several) to `to` and
 * append its event, as one atomic unit: the event row and the state change
 * commit together or not at all, so every state change has exactly one
 * event, whatever crashes when. This is the one way a compose's state
 * changes after creation.
 *
 * Conditional (safe against concurrent callers and other processes): only
 * while the compose is still in `from` and meets `also`. Applies §10.1's
 * side effects (`transitionSet`). Returns whether the compose moved.
 *
 * With a transaction it runs in it (so the caller's other writes join the
 * same commit); with a `Db` it is one batch — one round trip to a remote
 * server, one pass through the write lane locally.
 *
 * Moving to done or failed takes the composes following this one along
 * (§10.1 cascade, `cascadeToReusers`) in the same transaction; with a `Db`
 * that is then a transaction of its own.
 *
 * The event is written first, reading the state it leaves (`from_state`
 * is exact when several were allowed); the UPDATE then applies only if the
 * INSERT wrote its row (`changes()` of the previous statement, same
 * connection, same write transaction, so both see the same row).
 */
export async function moveCompose(
  db: DbOrTx,
  id: number,
  from: ComposeStateName | readonly ComposeStateName[],
  to: ComposeStateName,
  now: number,
  patch: TransitionPatch = {},
  /** Further conditions the row must meet, checked in the same statements. */
  also?: SQL,
): Promise<boolean> {
  const froms = typeof from === "string" ? [from] : from;
  for (const f of froms)
    if (!canTransition(f, to)) throw new Error(`invalid compose transition ${f} -> ${to}`);
  const where = and(
    eq(composes.id, id),
    inArray(
      composes.state,
      froms.map((f) => COMPOSE_STATES[f]),
    ),
    also,
  );
  const reason = "stateReason" in patch ? sql`${patch.stateReason ?? null}` : composes.stateReason;
  const insertEvent = sql`INSERT INTO events (compose_id, from_state, to_state, state_reason, at)
    SELECT ${composes.id}, ${composes.state}, ${COMPOSE_STATES[to]}, ${reason}, ${now}
      FROM ${composes} WHERE ${where}`;
  const update = (d: DbOrTx) =>
    d
      .update(composes)
      .set(transitionSet(to, now, patch))
      .where(and(where, sql`changes() = 1`))
      .returning({ id: composes.id });
  const cascades = to === "done" || to === "failed";
  if (db instanceof SQLiteTransaction) {
    await db.run(insertEvent);
    const moved = (await update(db)).length === 1;
    if (moved && cascades) await cascadeToReusers(db, id, to, now);
    return moved;
  }
  if (cascades)
    return (db as Db).transaction((tx) => moveCompose(tx, id, from, to, now, patch, also));
  const [, moved] = await (db as Db).batch([(db as Db).run(insertEvent), update(db)]);
  return moved.length === 1;
}

/**
 * §10.1 cascade: a compose that finished (done or failed) takes the
 * composes reusing it while it was generating along, with its reason,
 * `pungi_compose_id` and `koji_event`. Runs in the caller's transaction, so
 * a reuser never stays `generating` behind a settled original. One level:
 * a reusing compose is never itself reused.
 */
async function cascadeToReusers(tx: DbOrTx, id: number, to: ComposeStateName, now: number) {
  if (to !== "done" && to !== "failed") return;
  const reusers = await tx
    .select({ id: composes.id })
    .from(composes)
    .where(and(eq(composes.reusedId, id), eq(composes.state, COMPOSE_STATES.generating)));
  if (reusers.length === 0) return;
  const [o] = await tx
    .select({
      stateReason: composes.stateReason,
      pungiComposeId: composes.pungiComposeId,
      kojiEvent: composes.kojiEvent,
    })
    .from(composes)
    .where(eq(composes.id, id));
  if (!o) return;
  for (const r of reusers) await moveCompose(tx, r.id, "generating", to, now, o);
}

/**
 * Composes another one of `c`'s source type and source might reuse (§12):
 * older, reusing nothing, and either live `done` (not expired, no removal
 * requested) or past the reuse decision of their own generation. The
 * remaining comparisons are `domain/reuse.ts`'s.
 */
export async function listReuseCandidates(
  db: DbOrTx,
  c: Pick<ComposeRow, "id" | "sourceType" | "source">,
  now: number,
): Promise<ComposeRow[]> {
  return db
    .select()
    .from(composes)
    .where(
      and(
        eq(composes.sourceType, c.sourceType),
        eq(composes.source, c.source),
        lt(composes.id, c.id),
        isNull(composes.reusedId),
        or(
          and(
            eq(composes.state, COMPOSE_STATES.done),
            gte(composes.timeToExpire, now),
            isNull(composes.removedBy),
          ),
          and(
            eq(composes.state, COMPOSE_STATES.generating),
            eq(composes.stateReason, REASONS.generating),
          ),
        ),
      ),
    );
}

/**
 * Record that a generating compose is being built rather than reusing one
 * (§10.2 "Compose is generating", the marker that makes it a reuse
 * candidate itself) with the pins of its inputs. Not a state change, so no
 * event. False when the compose is not generating any more.
 */
export async function markBuilding(db: DbOrTx, id: number, pins: string | null): Promise<boolean> {
  const rows = await db
    .update(composes)
    .set({ stateReason: REASONS.generating, sourcePins: pins })
    .where(and(eq(composes.id, id), eq(composes.state, COMPOSE_STATES.generating)))
    .returning({ id: composes.id });
  return rows.length > 0;
}

/**
 * `c` (generating) reuses the live done compose `o` (§12): `c` becomes
 * done at once with `reused_id`, `o`'s `pungi_compose_id` (and
 * `koji_event` unless it has one), and both get the later of the two
 * expiry times. Nothing is written unless `o` is still a live done compose
 * and `c` still generating; call it in a transaction (it writes three
 * rows). Returns whether the reuse happened.
 */
export async function reuseDoneCompose(
  tx: DbOrTx,
  c: ComposeRow,
  oId: number,
  pins: string | null,
  now: number,
): Promise<boolean> {
  // What the transition to done makes of c's expiry (§10.1).
  const rebased = now + (c.timeToExpire - c.timeSubmitted);
  const [o] = await tx
    .update(composes)
    .set({ timeToExpire: sql`max(${composes.timeToExpire}, ${rebased})` })
    .where(
      and(
        eq(composes.id, oId),
        eq(composes.state, COMPOSE_STATES.done),
        isNull(composes.reusedId),
        isNull(composes.removedBy),
        gte(composes.timeToExpire, now),
      ),
    )
    .returning({
      timeToExpire: composes.timeToExpire,
      pungiComposeId: composes.pungiComposeId,
      kojiEvent: composes.kojiEvent,
    });
  if (!o) return false;
  const moved = await moveCompose(tx, c.id, "generating", "done", now, {
    stateReason: REASONS.done,
    reusedId: oId,
    pungiComposeId: o.pungiComposeId,
    kojiEvent: c.kojiEvent ?? o.kojiEvent,
    sourcePins: pins,
  });
  if (!moved) throw new Error(`compose ${c.id} is not generating any more`);
  await tx.update(composes).set({ timeToExpire: o.timeToExpire }).where(eq(composes.id, c.id));
  return true;
}

/**
 * `c` (generating) follows `o`, which is being built (§12): `c` keeps
 * generating with `reused_id` set until `o` settles and the cascade of
 * `moveCompose` takes it along; both get the later expiry. Nothing is
 * written unless `o` is still past its reuse decision; call it in a
 * transaction. Returns whether `c` follows `o` now.
 */
export async function followGeneratingCompose(
  tx: DbOrTx,
  c: ComposeRow,
  oId: number,
  pins: string | null,
): Promise<boolean> {
  const [o] = await tx
    .update(composes)
    .set({ timeToExpire: sql`max(${composes.timeToExpire}, ${c.timeToExpire})` })
    .where(
      and(
        eq(composes.id, oId),
        eq(composes.state, COMPOSE_STATES.generating),
        eq(composes.stateReason, REASONS.generating),
        isNull(composes.reusedId),
      ),
    )
    .returning({ timeToExpire: composes.timeToExpire });
  if (!o) return false;
  const [row] = await tx
    .update(composes)
    .set({ reusedId: oId, sourcePins: pins, timeToExpire: o.timeToExpire })
    .where(and(eq(composes.id, c.id), eq(composes.state, COMPOSE_STATES.generating)))
    .returning({ id: composes.id });
  if (!row) throw new Error(`compose ${c.id} is not generating any more`);
  return true;
}

/**
 * §10.4: settle composes still following an original that is already
 * settled — left by a crash between the original's state change and its
 * cascade where those were not one transaction. A reuser takes its
 * original's outcome: done if the original got done (even if removed
 * since: its files stay while a reuser lives), failed otherwise. Safe in
 * several processes at once (conditional transitions). Returns the ids moved.
 */
export async function settleStrandedReusers(db: DbOrTx, now: number): Promise<number[]> {
  const original = alias(composes, "original");
  const rows = await db
    .select({
      id: composes.id,
      originalState: original.state,
      timeDone: original.timeDone,
      stateReason: original.stateReason,
      pungiComposeId: original.pungiComposeId,
      kojiEvent: original.kojiEvent,
    })
    .from(composes)
    .innerJoin(original, eq(original.id, composes.reusedId))
    .where(
      and(
        // On (state, reused_id): only the generating composes that reuse one.
        eq(composes.state, COMPOSE_STATES.generating),
        isNotNull(composes.reusedId),
        inArray(original.state, [
          COMPOSE_STATES.done,
          COMPOSE_STATES.failed,
          COMPOSE_STATES.removed,
        ]),
      ),
    );
  const moved: number[] = [];
  for (const r of rows) {
    const done = r.timeDone !== null;
    const stateReason =
      r.originalState === COMPOSE_STATES.removed
        ? done
          ? REASONS.done
          : REASONS.error("the reused compose failed")
        : r.stateReason;
    const ok = await moveCompose(db, r.id, "generating", done ? "done" : "failed", now, {
      stateReason,
      pungiComposeId: r.pungiComposeId,
      kojiEvent: r.kojiEvent,
    });
    if (ok) moved.push(r.id);
  }
  return moved;
}

/**
 * Whether a compose that is not removed reuses compose `id`: its files are
 * then still pointed at and must stay (§11.2 leaves that to the lifetimes
 * being aligned; an admin DELETE or a shorter renewal breaks that).
 */
export async function hasLiveReusers(db: DbOrTx, id: number): Promise<boolean> {
  const rows = await db
    .select({ id: composes.id })
    .from(composes)
    .where(and(eq(composes.reusedId, id), ne(composes.state, COMPOSE_STATES.removed)))
    .limit(1);
  return rows.length > 0;
}

/** Mark a done/failed compose for removal by the next sweep (§9 step 6). */
export async function requestRemoval(
  db: Db,
  id: number,
  removedBy: string,
  now: number,
): Promise<ComposeRow | undefined> {
  const [row] = await db
    .update(composes)
    .set({ timeToExpire: now, removedBy })
    .where(
      and(
        eq(composes.id, id),
        inArray(composes.state, [COMPOSE_STATES.done, COMPOSE_STATES.failed]),
      ),
    )
    .returning();
  return row;
}

/**
 * Extend in place (§8.3): `max(time_to_expire, until)` for the compose, the
 * compose it reuses and the composes reusing it, one level.
 */
export async function extendExpiry(db: Db, row: ComposeRow, until: number): Promise<ComposeRow> {
  const related: SQL[] = [eq(composes.id, row.id), eq(composes.reusedId, row.id)];
  if (row.reusedId !== null) related.push(eq(composes.id, row.reusedId));
  await db
    .update(composes)
    .set({ timeToExpire: sql`max(${composes.timeToExpire}, ${until})` })
    .where(or(...related));
  return getCompose(db, row.id);
}

/** Composes whose lifetime is over and that still have files (done/failed). */
export async function listExpired(db: DbOrTx, now: number, limit: number): Promise<ComposeRow[]> {
  return db
    .select()
    .from(composes)
    .where(
      and(
        inArray(composes.state, [COMPOSE_STATES.done, COMPOSE_STATES.failed]),
        lt(composes.timeToExpire, now),
      ),
    )
    .orderBy(asc(composes.timeToExpire))
    .limit(limit);
}

/**
 * Move a done/failed compose to removed with the ODCS reason text; false
 * when it is not in the state `row` shows any more, or not expired.
 */
export async function markRemoved(db: DbOrTx, row: ComposeRow, now: number): Promise<boolean> {
  const from = row.state === COMPOSE_STATES.done ? "done" : "failed";
  // Still expired at this instant: a renewal that extended it meanwhile wins.
  return moveCompose(
    db,
    row.id,
    from,
    "removed",
    now,
    { stateReason: removalReason(row.stateReason, row.removedBy) },
    lt(composes.timeToExpire, now),
  );
}

/** Current state code of each of `ids` that exists (one query; the wait endpoint's poll). */
export async function findComposeStates(db: DbOrTx, ids: number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: composes.id, state: composes.state })
    .from(composes)
    .where(inArray(composes.id, ids));
  return new Map(rows.map((r) => [r.id, r.state]));
}
