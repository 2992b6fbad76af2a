/**
 * A libSQL server for tests: Hrana over HTTP (`/v2/pipeline`, `/v3/pipeline`,
 * JSON encoding) as sqld serves it, backed by a local libSQL database file.
 * Production uses sqld or Turso; this exists because neither can be
 * installed here, and so the network path of `@libsql/client` (`http://`,
 * `@libsql/client/web`) is tested against the real protocol.
 *
 * A stream is one database connection; its baton is good for exactly one
 * request, and each answer names the next one (none after `close`). A stream
 * left idle for `streamIdleMs` is closed and its open transaction rolled
 * back, as sqld does. A statement that finds another stream's write lock
 * waits (asynchronously) until some stream finishes a request, up to
 * `busyTimeoutMs`, then fails with SQLITE_BUSY. Anything the protocol does
 * not allow — unknown fields or request types, a stale baton, `get_autocommit`
 * on v2 — is refused with a 400 (malformed body) or a per-request error.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import {
  BatchSchema,
  batch,
  describe,
  execute,
  HranaError,
  isBusy,
  openConn,
  renewIfPoisoned,
  type SqlConn,
  StmtSchema,
  sequence,
  sqlText,
  takesWriteLock,
} from "./hrana-sql.ts";

const SqlRef = { sql: z.string().nullish(), sql_id: z.int().nullish() };
const RequestSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("close") }),
  z.strictObject({ type: z.literal("execute"), stmt: StmtSchema }),
  z.strictObject({ type: z.literal("batch"), batch: BatchSchema }),
  z.strictObject({ type: z.literal("sequence"), ...SqlRef }),
  z.strictObject({ type: z.literal("describe"), ...SqlRef }),
  z.strictObject({ type: z.literal("store_sql"), sql_id: z.int(), sql: z.string() }),
  z.strictObject({ type: z.literal("close_sql"), sql_id: z.int() }),
  z.strictObject({ type: z.literal("get_autocommit") }),
]);
type StreamRequest = z.infer<typeof RequestSchema>;
const PipelineSchema = z.strictObject({
  baton: z.string().nullish(),
  requests: z.array(RequestSchema),
});

interface Stream {
  id: number;
  conn: SqlConn;
  /** Wrote inside the open transaction: holds the database's write lock. */
  holdsWriteLock: boolean;
  baton: string;
  idle: NodeJS.Timeout | undefined;
}

export interface HranaServerOptions {
  /** The libSQL database file to serve (created if absent). */
  path: string;
  /** Require `Authorization: Bearer <authToken>` (sqld's JWT check, reduced to equality). */
  authToken?: string;
  streamIdleMs?: number;
  busyTimeoutMs?: number;
}

export interface HranaServer {
  /** `http://127.0.0.1:<port>` — an `ODCS_DATABASE_URL`. */
  url: string;
  /** Counters for tests: pipelines answered, streams opened, request types seen. */
  stats: { pipelines: number; streams: number; requests: Record<string, number> };
  /** Streams open now. */
  openStreams(): number;
  close(): Promise<void>;
}

class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startHranaServer(opts: HranaServerOptions): Promise<HranaServer> {
  const idleMs = opts.streamIdleMs ?? 10_000;
  const busyMs = opts.busyTimeoutMs ?? 15_000;
  const streams = new Map<number, Stream>();
  const stats = { pipelines: 0, streams: 0, requests: {} as Record<string, number> };
  let nextStream = 1;
  let released: (() => void)[] = [];

  // WAL lets readers go on while one stream writes, as under sqld.
  const probe = openConn(opts.path).db;
  probe.exec("PRAGMA journal_mode = WAL");
  /** Is the write lock free? (`exec` finalizes its statements, so a BUSY here leaves nothing behind.) */
  const isWriteLockFree = () => {
    try {
      probe.exec("BEGIN IMMEDIATE");
      probe.exec("ROLLBACK");
      return true;
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) return false;
      throw err;
    }
  };

  const release = () => {
    const waiting = released;
    released = [];
    for (const wake of waiting) wake();
  };

  const waitForRelease = (deadline: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      released.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  /**
   * Run one statement (or script, `sql` undefined) of stream `s`. One that
   * takes the write lock first waits until no other stream holds it, as
   * SQLite's busy handler would in sqld. Waiting before rather than retrying
   * after SQLITE_BUSY matters: a libsql statement that failed with
   * SQLITE_BUSY stays "in progress" (it cannot be reset), and its transaction
   * can then never commit. The check and the statement run in one
   * synchronous step, and all connections live in this event loop, so the
   * lock found free is still free when the statement runs.
   */
  async function runLocked<T>(s: Stream, sql: string | undefined, fn: () => T): Promise<T> {
    const deadline = Date.now() + busyMs;
    const needsLock = sql === undefined || takesWriteLock(sql);
    for (;;) {
      const mayRun =
        !needsLock || (s.holdsWriteLock && s.conn.db.inTransaction) || isWriteLockFree();
      if (mayRun) {
        try {
          return fn();
        } catch (err) {
          // Taken by surprise (a lock this server does not foresee): outside a
          // transaction, on a fresh connection, try again.
          if (!isBusy(err) || s.conn.db.inTransaction || Date.now() >= deadline) throw err;
          renewIfPoisoned(s.conn);
        } finally {
          noteWriteLock(s, sql);
        }
      } else if (Date.now() >= deadline) {
        throw new HranaError("SQLITE_BUSY: database is locked", "SQLITE_BUSY");
      }
      await waitForRelease(deadline);
    }
  }

  /** After a request: remember whether the stream's open transaction holds the lock. */
  function noteWriteLock(s: Stream, sql: string | undefined) {
    if (!s.conn.db.inTransaction) s.holdsWriteLock = false;
    else if (sql === undefined || takesWriteLock(sql)) s.holdsWriteLock = true;
  }

  function closeStream(s: Stream) {
    clearTimeout(s.idle);
    streams.delete(s.id);
    s.conn.db.close(); // an open transaction is rolled back
    release();
  }

  function newBaton(s: Stream) {
    s.baton = `${s.id}.${randomBytes(12).toString("base64url")}`;
    clearTimeout(s.idle);
    s.idle = setTimeout(() => closeStream(s), idleMs);
    s.idle.unref();
    return s.baton;
  }

  function streamFor(baton: string | null | undefined): Stream {
    if (baton == null) {
      const s: Stream = {
        id: nextStream++,
        conn: openConn(opts.path),
        holdsWriteLock: false,
        baton: "",
        idle: undefined,
      };
      streams.set(s.id, s);
      stats.streams++;
      return s;
    }
    const s = streams.get(Number(baton.split(".")[0]));
    if (!s || s.baton !== baton) {
      throw new ProtocolError(400, "The baton is invalid: unknown, already used or expired");
    }
    s.baton = ""; // good for one request
    return s;
  }

  async function handle(s: Stream, req: StreamRequest, version: 2 | 3) {
    switch (req.type) {
      case "close":
        return { type: "close" };
      case "execute": {
        const sql = sqlText(s.conn, req.stmt.sql, req.stmt.sql_id);
        return {
          type: "execute",
          result: await runLocked(s, sql, () => execute(s.conn, req.stmt)),
        };
      }
      case "batch":
        return {
          type: "batch",
          result: await batch(s.conn, req.batch, (stmt, run) =>
            runLocked(s, sqlText(s.conn, stmt.sql, stmt.sql_id), run),
          ),
        };
      case "sequence": {
        const sql = sqlText(s.conn, req.sql, req.sql_id);
        await runLocked(s, undefined, () => sequence(s.conn, sql)); // a script: assume it writes
        return { type: "sequence" };
      }
      case "describe":
        return { type: "describe", result: describe(s.conn, sqlText(s.conn, req.sql, req.sql_id)) };
      case "store_sql":
        if (s.conn.stored.has(req.sql_id)) {
          throw new HranaError(`SQL text ${req.sql_id} is already stored`, "SQL_ID_EXISTS");
        }
        s.conn.stored.set(req.sql_id, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        s.conn.stored.delete(req.sql_id);
        return { type: "close_sql" };
      case "get_autocommit":
        if (version < 3) throw new HranaError("get_autocommit needs Hrana 3", "HRANA_PROTO_ERROR");
        return { type: "get_autocommit", is_autocommit: !s.conn.db.inTransaction };
    }
  }

  async function pipeline(body: unknown, version: 2 | 3) {
    const parsed = PipelineSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProtocolError(
        400,
        `Malformed pipeline: ${issue?.path.join(".")}: ${issue?.message}`,
      );
    }
    const s = streamFor(parsed.data.baton);
    const results: unknown[] = [];
    let closed = false;
    try {
      for (const req of parsed.data.requests) {
        stats.requests[req.type] = (stats.requests[req.type] ?? 0) + 1;
        if (closed) throw new ProtocolError(400, "A request after close in one pipeline");
        try {
          renewIfPoisoned(s.conn);
          results.push({ type: "ok", response: await handle(s, req, version) });
          closed = req.type === "close";
        } catch (err) {
          if (!(err instanceof HranaError)) throw err;
          results.push({ type: "error", error: { message: err.message, code: err.code } });
        }
      }
    } catch (err) {
      closeStream(s);
      throw err;
    }
    stats.pipelines++;
    if (closed) closeStream(s);
    else release();
    return { baton: closed ? null : newBaton(s), base_url: null, results };
  }

  async function route(req: IncomingMessage): Promise<[number, unknown]> {
    const url = new URL(req.url ?? "/", "http://x");
    if (opts.authToken !== undefined) {
      if (req.headers.authorization !== `Bearer ${opts.authToken}`) {
        throw new ProtocolError(401, "Authentication failed: a valid bearer token is required");
      }
    }
    const version = url.pathname.match(/^\/v([23])(\/pipeline)?$/);
    if (req.method === "GET" && (url.pathname === "/health" || (version && !version[2]))) {
      return [200, null];
    }
    if (!version?.[2]) throw new ProtocolError(404, `No route ${req.method} ${url.pathname}`);
    if (req.method !== "POST") throw new ProtocolError(405, "A pipeline is POSTed");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new ProtocolError(400, "The body is not JSON");
    }
    return [200, await pipeline(body, version[1] === "3" ? 3 : 2)];
  }

  const server: Server = createServer((req, res: ServerResponse) => {
    route(req).then(
      ([status, body]) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(body === null ? "" : JSON.stringify(body));
      },
      (err: unknown) => {
        const status = err instanceof ProtocolError ? err.status : 500;
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: (err as Error).message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    openStreams: () => streams.size,
    close: async () => {
      for (const s of [...streams.values()]) closeStream(s);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
