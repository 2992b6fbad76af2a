/**
 * The SQL half of the Hrana test server: the protocol's JSON values,
 * statements, batches and describe, evaluated on one `libsql` connection
 * (the native library under `@libsql/client`'s `file:` URLs). Shapes follow
 * the public Hrana spec (version 2/3, JSON encoding) as sqld speaks it.
 */
import Database from "libsql";
import { z } from "zod";

export const ValueSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("null") }),
  z.strictObject({ type: z.literal("integer"), value: z.string().regex(/^-?\d+$/) }),
  z.strictObject({ type: z.literal("float"), value: z.number() }),
  z.strictObject({ type: z.literal("text"), value: z.string() }),
  z.strictObject({ type: z.literal("blob"), base64: z.string() }),
]);
export type HranaValue = z.infer<typeof ValueSchema>;

export const StmtSchema = z.strictObject({
  sql: z.string().nullish(),
  sql_id: z.int().nullish(),
  args: z.array(ValueSchema).default([]),
  named_args: z.array(z.strictObject({ name: z.string(), value: ValueSchema })).default([]),
  want_rows: z.boolean().default(true),
});
export type HranaStmt = z.infer<typeof StmtSchema>;

type Cond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and" | "or"; conds: Cond[] }
  | { type: "is_autocommit" };
export const CondSchema: z.ZodType<Cond> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("ok"), step: z.int().nonnegative() }),
    z.strictObject({ type: z.literal("error"), step: z.int().nonnegative() }),
    z.strictObject({ type: z.literal("not"), cond: CondSchema }),
    z.strictObject({ type: z.literal("and"), conds: z.array(CondSchema) }),
    z.strictObject({ type: z.literal("or"), conds: z.array(CondSchema) }),
    z.strictObject({ type: z.literal("is_autocommit") }),
  ]),
);
export const BatchSchema = z.strictObject({
  steps: z.array(z.strictObject({ condition: CondSchema.nullish(), stmt: StmtSchema })),
});
export type HranaBatch = z.infer<typeof BatchSchema>;

/** A protocol error answered as `{message, code}` (a request failed, the stream lives on). */
export class HranaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** SQLite said the database is locked by another connection: worth waiting for. */
export const isBusy = (err: unknown) => err instanceof HranaError && err.code === "SQLITE_BUSY";

function toSqlError(err: unknown, conn?: SqlConn): HranaError {
  if (err instanceof HranaError) return err;
  const e = err as { message?: string; code?: string };
  if (conn && e.code?.startsWith("SQLITE_BUSY")) conn.isPoisoned = true;
  console.error("BUSY", e.code, e.message, conn?.db.inTransaction, new Error().stack);
  return new HranaError(e.message ?? String(err), e.code ?? "SQLITE_ERROR");
}

function decode(v: HranaValue): unknown {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return v.value;
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64, "base64");
  }
}

function encode(v: unknown): HranaValue {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  throw new HranaError(`cannot encode a ${typeof v} value`, "SQLITE_ERROR");
}

/** One connection with the statement texts a stream stored (`store_sql`). */
export interface SqlConn {
  path: string;
  db: Database.Database;
  stored: Map<number, string>;
  /** Hit SQLITE_BUSY: replace the connection as soon as it is out of a transaction. */
  isPoisoned: boolean;
}

// timeout 0: a lock held by another stream answers SQLITE_BUSY at once and
// the server waits for it asynchronously, never blocking its event loop.
const connect = (path: string) => new Database(path, { timeout: 0 });

export function openConn(path: string): SqlConn {
  return { path, db: connect(path), stored: new Map(), isPoisoned: false };
}

/**
 * After SQLITE_BUSY a libsql connection keeps its next autocommit writes
 * from committing (seen with libsql 0.5: the row is counted, never
 * visible). So a poisoned connection is swapped for a new one once no
 * transaction of the stream's is open; an open one ends with the client's
 * ROLLBACK first.
 */
export function renewIfPoisoned(conn: SqlConn) {
  if (!conn.isPoisoned || conn.db.inTransaction) return;
  conn.db.close();
  conn.db = connect(conn.path);
  conn.isPoisoned = false;
}

export function sqlText(
  conn: SqlConn,
  sql: string | null | undefined,
  id: number | null | undefined,
) {
  if ((sql == null) === (id == null)) {
    throw new HranaError("exactly one of sql and sql_id must be given", "HRANA_PROTO_ERROR");
  }
  if (sql != null) return sql;
  const stored = conn.stored.get(id as number);
  if (stored === undefined) throw new HranaError(`SQL text ${id} is not stored`, "SQL_NOT_FOUND");
  return stored;
}

function bindArgs(stmt: HranaStmt): unknown[] {
  if (stmt.named_args.length === 0) return stmt.args.map(decode);
  if (stmt.args.length > 0) {
    throw new HranaError("this server takes positional or named args, not both", "ARGS_INVALID");
  }
  // libsql binds names without their sigil (`:a`, `@a`, `$a` → `a`).
  const named: Record<string, unknown> = {};
  for (const a of stmt.named_args) named[a.name.replace(/^[:@$]/, "")] = decode(a.value);
  return [named];
}

/** `all()`, not `get()`: a statement left mid-step would keep an implicit transaction open. */
function scalar(db: Database.Database, sql: string): bigint {
  const [row] = db.prepare(sql).safeIntegers(true).raw(true).all() as unknown[][];
  return row?.[0] as bigint;
}

export function execute(conn: SqlConn, stmt: HranaStmt) {
  const sql = sqlText(conn, stmt.sql, stmt.sql_id);
  try {
    const prepared = conn.db.prepare(sql).safeIntegers(true);
    const before = scalar(conn.db, "SELECT total_changes()");
    const cols = prepared.reader
      ? (prepared.columns() as { name: string; type: string | null }[]).map((c) => ({
          name: c.name,
          decltype: c.type ?? null,
        }))
      : [];
    let rows: unknown[][] = [];
    if (prepared.reader) rows = prepared.raw(true).all(...bindArgs(stmt)) as unknown[][];
    else prepared.run(...bindArgs(stmt));
    const wrote = scalar(conn.db, "SELECT total_changes()") !== before;
    return {
      cols,
      rows: stmt.want_rows ? rows.map((r) => r.map(encode)) : [],
      affected_row_count: wrote ? Number(scalar(conn.db, "SELECT changes()")) : 0,
      last_insert_rowid: scalar(conn.db, "SELECT last_insert_rowid()").toString(),
      rows_read: rows.length,
      rows_written: wrote ? Number(scalar(conn.db, "SELECT changes()")) : 0,
      query_duration_ms: 0,
    };
  } catch (err) {
    throw toSqlError(err, conn);
  }
}

function holds(cond: Cond, conn: SqlConn, ok: (boolean | undefined)[]): boolean {
  switch (cond.type) {
    case "ok":
      return ok[cond.step] === true;
    case "error":
      return ok[cond.step] === false;
    case "not":
      return !holds(cond.cond, conn, ok);
    case "and":
      return cond.conds.every((c) => holds(c, conn, ok));
    case "or":
      return cond.conds.some((c) => holds(c, conn, ok));
    case "is_autocommit":
      return !conn.db.inTransaction;
  }
}

/**
 * Run a batch: each step whose condition holds (conditions may only name
 * earlier steps). `run` runs one step, after waiting for the write lock it needs.
 */
export async function batch(
  conn: SqlConn,
  b: HranaBatch,
  run: <T>(stmt: HranaStmt, fn: () => T) => Promise<T>,
) {
  const step_results: (ReturnType<typeof execute> | null)[] = [];
  const step_errors: ({ message: string; code: string } | null)[] = [];
  const ok: (boolean | undefined)[] = [];
  for (const [i, step] of b.steps.entries()) {
    if (step.condition && !mentionsOnlyBefore(step.condition, i)) {
      throw new HranaError(`step ${i}'s condition names a later step`, "HRANA_PROTO_ERROR");
    }
    if (step.condition && !holds(step.condition, conn, ok)) {
      step_results.push(null);
      step_errors.push(null);
      continue;
    }
    try {
      step_results.push(await run(step.stmt, () => execute(conn, step.stmt)));
      step_errors.push(null);
      ok[i] = true;
    } catch (err) {
      const e = toSqlError(err);
      step_results.push(null);
      step_errors.push({ message: e.message, code: e.code });
      ok[i] = false;
    }
  }
  return { step_results, step_errors };
}

function mentionsOnlyBefore(cond: Cond, step: number): boolean {
  if (cond.type === "ok" || cond.type === "error") return cond.step < step;
  if (cond.type === "not") return mentionsOnlyBefore(cond.cond, step);
  if (cond.type === "and" || cond.type === "or") {
    return cond.conds.every((c) => mentionsOnlyBefore(c, step));
  }
  return true;
}

/**
 * Whether a statement takes the database's write lock: data and schema
 * changes and `BEGIN IMMEDIATE/EXCLUSIVE` (not a deferred BEGIN, a read,
 * COMMIT or ROLLBACK, which need no lock of their own).
 */
export function takesWriteLock(sql: string): boolean {
  const head = sql.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, "").toUpperCase();
  if (/^BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b/.test(head)) return true;
  if (/^(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|REINDEX|VACUUM)\b/.test(head)) return true;
  return /^WITH\b/.test(head) && /\b(INSERT|UPDATE|DELETE|REPLACE)\b/.test(head);
}

/** `sequence`: every statement of a script, no arguments, stop at the first error. */
export function sequence(conn: SqlConn, sql: string) {
  try {
    conn.db.exec(sql);
  } catch (err) {
    throw toSqlError(err, conn);
  }
}

/** Parameter names in order, as sqlite3_bind_parameter_name would (`?` is unnamed). */
function parameters(sql: string): { name: string | null }[] {
  const re =
    /'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\/|(\?\d*|[:@$][A-Za-z_]\w*)/g;
  const seen = new Map<string, number>();
  const out: { name: string | null }[] = [];
  for (const m of sql.matchAll(re)) {
    const p = m[1];
    if (p === undefined) continue;
    if (p === "?") out.push({ name: null });
    else if (!seen.has(p)) {
      seen.set(p, out.length);
      out.push({ name: p.startsWith("?") ? null : p });
    }
  }
  return out;
}

export function describe(conn: SqlConn, sql: string) {
  try {
    const prepared = conn.db.prepare(sql);
    const cols = prepared.reader
      ? (prepared.columns() as { name: string; type: string | null }[]).map((c) => ({
          name: c.name,
          decltype: c.type ?? null,
        }))
      : [];
    const head = sql.trim().toUpperCase();
    return {
      params: parameters(sql),
      cols,
      is_explain: head.startsWith("EXPLAIN"),
      is_readonly:
        /^(SELECT|VALUES|EXPLAIN)\b/.test(head) ||
        (/^WITH\b/.test(head) && !/\b(INSERT|UPDATE|DELETE|REPLACE)\b/.test(head)),
    };
  } catch (err) {
    throw toSqlError(err, conn);
  }
}
