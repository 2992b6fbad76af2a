import type {
  Client,
  InArgs,
  InStatement,
  ResultSet,
  Transaction,
  TransactionMode,
} from "@libsql/client";

/**
 * One writer at a time per process, in the order they asked.
 *
 * Why: the local libSQL driver runs every statement synchronously on one of
 * the client's pooled connections. A write transaction holds SQLite's write
 * lock across its awaits; a write on another connection of the same process
 * meanwhile does not fail, it spins in SQLite's busy handler — on the one JS
 * thread, so the transaction holding the lock can never finish: the whole
 * process (every request included) stands still for the busy timeout, then
 * the write fails with SQLITE_BUSY. Waiting here instead costs a promise and
 * lets the lock holder run on. Reads are not serialised: in WAL mode they
 * never wait for the writer.
 *
 * Another process's lock is still waited for by SQLite's busy timeout: that
 * one is released without this thread's help.
 */
export class WriteLane {
  #held = false;
  #waiters: { grant: () => void; fail: (err: Error) => void }[] = [];

  /** True while a writer holds the lane (tests, diagnostics). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Hold the lane; resolves to the function that gives it back (idempotent).
   * Rejects after `timeoutMs` of waiting: a holder that long is a
   * transaction kept open across a wait for something else, a bug that
   * should fail loudly rather than hang.
   */
  acquire(timeoutMs: number): Promise<() => void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.#releaser());
        },
        fail: reject,
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new WriteLaneTimeoutError(
            `waited ${timeoutMs} ms for this process's database write lane (a transaction held it)`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next.grant();
      else this.#held = false;
    };
  }
}

export class WriteLaneTimeoutError extends Error {
  override name = "WriteLaneTimeoutError";
}

/**
 * The lane of every local-file client of this process. One for all files:
 * two clients of one file are as much one process's writers as one client's
 * connections are, and a client does not say which file it opened.
 */
const LOCAL_LANE = new WriteLane();

/**
 * Called before each write statement (and BEGIN/COMMIT of a write
 * transaction) with its SQL; throwing makes that statement fail as a crash
 * of the process there would. Tests inject faults with it.
 */
export type WriteFault = (sql: string) => void;

/**
 * Called after a write statement or batch outside a transaction, and after
 * each successful COMMIT (with "COMMIT"), with its SQL: the test-only crash
 * points (`crash-points.ts`) stop the process right after a commit there.
 */
export type AfterWrite = (sql: string) => void;

const SELECT = /^\s*select\b/i;
const sqlOf = (stmt: InStatement | [string, InArgs?] | string): string =>
  typeof stmt === "string" ? stmt : Array.isArray(stmt) ? stmt[0] : stmt.sql;

/**
 * A client whose writes go through `lane` (plain SELECTs and read
 * transactions do not), with an optional fault point before each write.
 */
export class LanedClient implements Client {
  fault: WriteFault | undefined;
  afterWrite: AfterWrite | undefined;
  constructor(
    readonly inner: Client,
    readonly lane: WriteLane | undefined,
    private readonly timeoutMs: number,
  ) {}

  get closed(): boolean {
    return this.inner.closed;
  }
  get protocol(): string {
    return this.inner.protocol;
  }

  async #write<T>(sql: string, run: () => Promise<T>): Promise<T> {
    const release = this.lane ? await this.lane.acquire(this.timeoutMs) : undefined;
    try {
      this.fault?.(sql);
      const result = await run();
      this.afterWrite?.(sql);
      return result;
    } finally {
      release?.();
    }
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const sql = sqlOf(stmtOrSql);
    const run = () =>
      typeof stmtOrSql === "string"
        ? this.inner.execute(stmtOrSql, args)
        : this.inner.execute(stmtOrSql);
    return SELECT.test(sql) ? run() : this.#write(sql, run);
  }

  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<ResultSet[]> {
    // BEGIN IMMEDIATE by default: the lock is taken (or waited for) at once,
    // never upgraded halfway through (a deferred batch that read first would
    // fail with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile).
    return this.#write(stmts.map(sqlOf).join(";\n"), () =>
      this.inner.batch(stmts, mode ?? "write"),
    );
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.#write("migrate", () => this.inner.migrate(stmts));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#write(sql, () => this.inner.executeMultiple(sql));
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    if (mode === "read") return this.inner.transaction(mode);
    const release = this.lane ? await this.lane.acquire(this.timeoutMs) : () => {};
    try {
      this.fault?.("BEGIN");
      return new LanedTransaction(await this.inner.transaction(mode), release, this);
    } catch (err) {
      release();
      throw err;
    }
  }

  sync() {
    return this.inner.sync();
  }
  close(): void {
    this.inner.close();
  }
  reconnect() {
    return this.inner.reconnect();
  }
}

/** A write transaction holding the lane until it commits, rolls back or closes. */
class LanedTransaction implements Transaction {
  constructor(
    private readonly inner: Transaction,
    private readonly release: () => void,
    private readonly owner: LanedClient,
  ) {}

  get closed(): boolean {
    return this.inner.closed;
  }

  async execute(stmt: InStatement): Promise<ResultSet> {
    const sql = sqlOf(stmt);
    if (!SELECT.test(sql)) this.owner.fault?.(sql);
    return this.inner.execute(stmt);
  }

  async batch(stmts: InStatement[]): Promise<ResultSet[]> {
    this.owner.fault?.(stmts.map(sqlOf).join(";\n"));
    return this.inner.batch(stmts);
  }

  async executeMultiple(sql: string): Promise<void> {
    this.owner.fault?.(sql);
    return this.inner.executeMultiple(sql);
  }

  async commit(): Promise<void> {
    try {
      this.owner.fault?.("COMMIT");
      await this.inner.commit();
      this.owner.afterWrite?.("COMMIT");
    } finally {
      // A failed COMMIT (or a fault before it) leaves the transaction to the
      // caller's rollback, which releases; a settled one releases here.
      if (this.inner.closed) this.release();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.inner.rollback();
    } finally {
      this.release();
    }
  }

  close(): void {
    try {
      this.inner.close();
    } finally {
      this.release();
    }
  }
}

/**
 * Wrap a client so its writes are serialised per process (local files; a
 * remote server's locks are waited for asynchronously, so remote clients
 * only get the fault point).
 */
export function withWriteLane(client: Client, timeoutMs: number): LanedClient {
  if (client instanceof LanedClient) return client;
  return new LanedClient(client, client.protocol === "file" ? LOCAL_LANE : undefined, timeoutMs);
}
