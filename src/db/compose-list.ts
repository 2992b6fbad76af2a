import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  inArray,
  Placeholder,
  type SQL,
  sql,
} from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import type { SyncDatabase } from "./compose-reader.ts";
import { type ComposeRow, composeCounts, composes } from "./schema.ts";

export const ORDER_KEYS = [
  "id",
  "owner",
  "source_type",
  "koji_event",
  "state",
  "time_to_expire",
  "time_submitted",
  "time_done",
  "time_removed",
] as const;
export type OrderKey = (typeof ORDER_KEYS)[number];

const ORDER_COLUMNS = {
  id: composes.id,
  owner: composes.owner,
  source_type: composes.sourceType,
  koji_event: composes.kojiEvent,
  state: composes.state,
  time_to_expire: composes.timeToExpire,
  time_submitted: composes.timeSubmitted,
  time_done: composes.timeDone,
  time_removed: composes.timeRemoved,
} as const;

export interface ComposeFilters {
  owner?: string;
  sourceType?: number;
  source?: string;
  state?: number;
  kojiTaskId?: number;
  pungiComposeId?: string;
  composeType?: string;
  label?: string;
}

/** Every filter, in the fixed order that names a query shape. */
export const FILTER_KEYS = [
  "owner",
  "sourceType",
  "source",
  "state",
  "kojiTaskId",
  "pungiComposeId",
  "composeType",
  "label",
] as const satisfies readonly (keyof ComposeFilters)[];
type FilterKey = (typeof FILTER_KEYS)[number];

const FILTER_COLUMNS = {
  owner: composes.owner,
  sourceType: composes.sourceType,
  source: composes.source,
  state: composes.state,
  kojiTaskId: composes.kojiTaskId,
  pungiComposeId: composes.pungiComposeId,
  composeType: composes.composeType,
  label: composes.label,
} as const;

export interface ComposeOrder {
  key: OrderKey;
  descending: boolean;
}

/** The filters that are set, in `FILTER_KEYS` order. */
function setFilters(filters: ComposeFilters): FilterKey[] {
  return FILTER_KEYS.filter((k) => filters[k] !== undefined);
}

/**
 * How a page is read. `filter`: off the filters' index, sorted when the
 * order is another column (SQLite's own choice). `walk`: along the order
 * key's index, testing the filters on each row (`+col = ?` keeps SQLite
 * from using their indexes), stopping once the page is full; a `state`
 * filter stays indexable, as `(state, key)` indexes exist for every order.
 */
export type PageStrategy = "filter" | "walk";

/** Order keys with a `(state, key)` index (schema.ts). */
const STATE_ORDER_INDEXED: ReadonlySet<OrderKey> = new Set([
  "id",
  "owner",
  "source_type",
  "koji_event",
  "time_to_expire",
  "time_submitted",
  "time_done",
  "time_removed",
]);

/**
 * Sorting the `matches` rows costs about `matches` row reads; walking the
 * order index about `end * all / matches` (the page ends at row `end`,
 * matches spread along the order). Walk when that is less. Only filters on
 * other columns than the order key and than an indexed `state` need the
 * choice; the answer is the same either way, only its cost differs.
 */
export function pageStrategy(
  filters: ComposeFilters,
  order: ComposeOrder,
  matches: number,
  all: number,
  end: number,
): PageStrategy {
  if (!needsStrategy(setFilters(filters), order)) return "filter";
  return matches * matches > end * all ? "walk" : "filter";
}

/** The order key a filter's column is, if any. */
const FILTER_ORDER: Partial<Record<FilterKey, OrderKey>> = {
  owner: "owner",
  sourceType: "source_type",
  state: "state",
};

/**
 * Whether filter `k` keeps its index when walking `order`'s: a filter on
 * the order column itself (its index is the order's), or `state` where a
 * `(state, key)` index exists.
 */
function indexedInWalk(k: FilterKey, order: ComposeOrder): boolean {
  return FILTER_ORDER[k] === order.key || (k === "state" && STATE_ORDER_INDEXED.has(order.key));
}

function needsStrategy(keys: FilterKey[], order: ComposeOrder): boolean {
  return order.key !== "id" && keys.some((k) => !indexedInWalk(k, order));
}

/**
 * Filters in the order their index is tried when several are set, most
 * selective kind first (a compose id, a task, a label, a source, an owner
 * name before the few-valued columns). Without ANALYZE statistics SQLite
 * takes any of the equal-looking indexes — e.g. `source_type` (a quarter of
 * the table) over `owner` for `owner = ? AND source_type = ?`.
 */
const SELECTIVITY: readonly FilterKey[] = [
  "pungiComposeId",
  "kojiTaskId",
  "label",
  "source",
  "owner",
  "composeType",
  "sourceType",
  "state",
];

const COMPANION: Partial<Record<FilterKey, FilterKey>> = {
  owner: "state",
  sourceType: "state",
  source: "sourceType",
};

/**
 * The filters that may use their index; the others are written `+col = ?`,
 * which SQLite tests on each row. Walking: those that share the order's
 * index. Otherwise: the most selective one, and its companion in a
 * two-column index.
 */
function indexedFilters(
  keys: FilterKey[],
  order: ComposeOrder | undefined,
  strategy: PageStrategy,
): Set<FilterKey> {
  if (strategy === "walk" && order) return new Set(keys.filter((k) => indexedInWalk(k, order)));
  const best = SELECTIVITY.find((k) => keys.includes(k));
  const out = new Set<FilterKey>(best ? [best] : []);
  // Two-column indexes: (owner, state), (state, source_type), (source_type, source).
  const companion = best && COMPANION[best];
  if (companion && keys.includes(companion)) out.add(companion);
  return out;
}

function whereOf(
  keys: FilterKey[],
  order?: ComposeOrder,
  strategy: PageStrategy = "filter",
): SQL | undefined {
  const indexed = indexedFilters(keys, order, strategy);
  const conds = keys.map((k) =>
    indexed.has(k)
      ? eq(FILTER_COLUMNS[k], sql.placeholder(k))
      : sql`+${FILTER_COLUMNS[k]} = ${sql.placeholder(k)}`,
  );
  return conds.length > 0 ? and(...conds) : undefined;
}

/**
 * The `compose_counts` row (kind, key) that holds the exact number of
 * matches, when the filters are one of the maintained shapes: none, or
 * exactly one of state, owner, source type.
 */
export function countsKey(filters: ComposeFilters): [string, string] | undefined {
  const keys = setFilters(filters);
  if (keys.length === 0) return ["all", ""];
  if (keys.length > 1) return undefined;
  if (keys[0] === "state") return ["state", String(filters.state)];
  if (keys[0] === "owner") return ["owner", String(filters.owner)];
  if (keys[0] === "sourceType") return ["source_type", String(filters.sourceType)];
  return undefined;
}

function buildPage(
  db: DbOrTx,
  keys: FilterKey[],
  order: ComposeOrder,
  strategy: PageStrategy = "filter",
) {
  const dir = order.descending ? desc : asc;
  const col = ORDER_COLUMNS[order.key];
  if (strategy === "filter" && needsStrategy(keys, order)) {
    // Sort the matches' ids only (`+col`: never walk the order index,
    // whose rows may all fail the filters), then read the page's rows.
    const ids = db
      .select({ id: composes.id })
      .from(composes)
      .where(whereOf(keys))
      .orderBy(dir(sql`+${col}`), dir(composes.id))
      .limit(sql.placeholder("limit"))
      .offset(sql.placeholder("offset"));
    return db
      .select()
      .from(composes)
      .where(inArray(composes.id, ids))
      .orderBy(dir(col), dir(composes.id));
  }
  return db
    .select()
    .from(composes)
    .where(whereOf(keys, order, strategy))
    .orderBy(dir(col), dir(composes.id))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset"));
}

function buildCount(db: DbOrTx, keys: FilterKey[]) {
  return db.select({ n: count() }).from(composes).where(whereOf(keys));
}

const buildStoredCount = (db: DbOrTx) =>
  db
    .select({ n: composeCounts.n })
    .from(composeCounts)
    .where(
      and(
        eq(composeCounts.kind, sql.placeholder("kind")),
        eq(composeCounts.key, sql.placeholder("key")),
      ),
    );

/**
 * Statements prepared once per database handle and query shape (which
 * filters are set, order key and direction): at most 2^8 × 18 shapes, in
 * practice a handful. Building drizzle SQL anew cost ~40 µs per request.
 */
const cache = new WeakMap<DbOrTx, Map<string, unknown>>();
function cached<T>(db: DbOrTx, name: string, build: () => T): T {
  let byName = cache.get(db);
  if (!byName) {
    byName = new Map();
    cache.set(db, byName);
  }
  let q = byName.get(name) as T | undefined;
  if (q === undefined) {
    q = build();
    byName.set(name, q);
  }
  return q;
}

function params(filters: ComposeFilters, keys: FilterKey[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, filters[k]]));
}

/**
 * The SQL of the page and count queries of one shape, for EXPLAIN QUERY
 * PLAN (test/db/list-plans.test.ts); `?` for every value.
 */
export function listQueriesSql(
  db: DbOrTx,
  filters: ComposeFilters,
  order: ComposeOrder,
  strategy: PageStrategy = "filter",
): { page: string; count: string } {
  const keys = setFilters(filters);
  return {
    page: buildPage(db, keys, order, strategy).toSQL().sql,
    count: buildCount(db, keys).toSQL().sql,
  };
}

/** The name of one prepared page query. */
function pageShape(keys: FilterKey[], order: ComposeOrder, strategy: PageStrategy): string {
  return `page:${keys.join(",")}:${order.descending ? "-" : ""}${order.key}:${strategy}`;
}

/**
 * Exact number of composes matching `filters`: read from `compose_counts`
 * for the maintained shapes (O(1)), else counted on an index.
 */
export async function countComposes(db: DbOrTx, filters: ComposeFilters): Promise<number> {
  const stored = countsKey(filters);
  if (stored) {
    const rows = await cached(db, "storedCount", () => buildStoredCount(db).prepare()).all({
      kind: stored[0],
      key: stored[1],
    });
    return rows[0]?.n ?? 0;
  }
  const keys = setFilters(filters);
  const q = cached(db, `count:${keys.join(",")}`, () => buildCount(db, keys).prepare());
  const rows = await q.all(params(filters, keys));
  return rows[0]?.n ?? 0;
}

/** One page of composes plus the total count of matches; `id` breaks ties in the same direction. */
export async function listComposes(
  db: DbOrTx,
  filters: ComposeFilters,
  order: ComposeOrder,
  page: number,
  perPage: number,
): Promise<{ rows: ComposeRow[]; total: number }> {
  const keys = setFilters(filters);
  const values = { ...params(filters, keys), limit: perPage, offset: (page - 1) * perPage };
  const read = (strategy: PageStrategy) =>
    cached(db, pageShape(keys, order, strategy), () =>
      buildPage(db, keys, order, strategy).prepare(),
    ).all(values);
  if (!needsStrategy(keys, order)) {
    const [rows, total] = await Promise.all([read("filter"), countComposes(db, filters)]);
    return { rows, total };
  }
  // The count decides how the page is read.
  const [total, all] = await Promise.all([countComposes(db, filters), countComposes(db, {})]);
  return { rows: await read(pageStrategy(filters, order, total, all, page * perPage)), total };
}

/** `listComposes` run synchronously (db/compose-reader.ts); same arguments, same answer. */
export type ListReader = (
  filters: ComposeFilters,
  order: ComposeOrder,
  page: number,
  perPage: number,
) => { rows: ComposeRow[]; total: number };

/** A statement of `sync` for drizzle-built SQL, with its placeholder names in order. */
function syncQuery(sync: SyncDatabase, q: { toSQL(): { sql: string; params: unknown[] } }) {
  const { sql: text, params: ps } = q.toSQL();
  const names = ps.map((p) => {
    if (p instanceof Placeholder) return p.name;
    throw new Error(`list SQL with an inline value: ${text}`);
  });
  const stmt = sync.prepare(text).raw(true);
  // Raw mode: each row is an array of the selected columns.
  return (values: Record<string, unknown>) =>
    stmt.all(...names.map((n) => values[n])) as unknown[][];
}

/**
 * `listComposes` over a synchronous local-file connection, each shape's
 * statements prepared once: through @libsql/client each list read
 * prepared its SQL anew and defined 42 properties per row one by one.
 * `db` only builds the SQL.
 */
export function createListReader(sync: SyncDatabase, db: DbOrTx): ListReader {
  const keysOfRow = Object.keys(getTableColumns(composes));
  const shapes = new Map<string, ReturnType<typeof syncQuery>>();
  const get = (name: string, build: () => ReturnType<typeof syncQuery>) => {
    let q = shapes.get(name);
    if (!q) {
      q = build();
      shapes.set(name, q);
    }
    return q;
  };
  const stored = syncQuery(sync, buildStoredCount(db));
  return (filters, order, page, perPage) => {
    const keys = setFilters(filters);
    const values = params(filters, keys);
    const count = (f: ComposeFilters, k: FilterKey[]) => {
      const sk = countsKey(f);
      const counted = sk
        ? stored({ kind: sk[0], key: sk[1] })
        : get(`count:${k.join(",")}`, () => syncQuery(sync, buildCount(db, k)))(params(f, k));
      return Number(counted[0]?.[0] ?? 0);
    };
    const total = count(filters, keys);
    const strategy = needsStrategy(keys, order)
      ? pageStrategy(filters, order, total, count({}, []), page * perPage)
      : "filter";
    const pageQ = get(pageShape(keys, order, strategy), () =>
      syncQuery(sync, buildPage(db, keys, order, strategy)),
    );
    const raw = pageQ({ ...values, limit: perPage, offset: (page - 1) * perPage });
    const rows = raw.map((r) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < keysOfRow.length; i++) row[keysOfRow[i] as string] = r[i];
      return row as ComposeRow;
    });
    return { rows, total };
  };
}

/**
 * The `compose_counts` ('writes', '') value over a synchronous connection:
 * one more for every insert, update and delete of a compose
 * (migrations/0005), so equal values mean the same `composes` table.
 */
export function createWritesReader(sync: SyncDatabase): () => number {
  const stmt = sync
    .prepare("SELECT n FROM compose_counts WHERE kind = 'writes' AND key = ''")
    .raw(true);
  return () => Number((stmt.get() as unknown[] | undefined)?.[0] ?? 0);
}
