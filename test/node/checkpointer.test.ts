import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Logger, silentLogger } from "../../src/api/deps.ts";
import { BACKGROUND_THREAD_NICE } from "../../src/node/nice.ts";
import { openDatabase } from "../../src/node/runtime.ts";
import { testConfig } from "../helpers/test-app.ts";
import { niceOfThread, niceOfThreads } from "../helpers/threads.ts";
import { waitFor } from "../helpers/wait.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(log: Logger = silentLogger) {
  const dir = mkdtempSync(join(tmpdir(), "odcs-ckpt-"));
  dirs.push(dir);
  const file = join(dir, "odcs.db");
  const opened = await openDatabase(
    testConfig({ ODCS_DATABASE_URL: `file:${file}`, ODCS_TARGET_DIR: join(dir, "composes") }),
    log,
  );
  return { ...opened, file };
}

describe("WAL checkpoints of a local database", () => {
  it("run on a thread at a lower priority than the threads answering requests", async () => {
    const before = niceOfThreads().filter((n) => n === BACKGROUND_THREAD_NICE).length;
    const { close } = await open();
    try {
      await waitFor(
        () => niceOfThreads().filter((n) => n === BACKGROUND_THREAD_NICE).length === before + 1,
        { what: "a thread at the checkpointer's niceness" },
      );
      expect(niceOfThread(process.pid)).toBe(0);
    } finally {
      await close();
    }
  });

  it("never run in a commit of the process's connections", async () => {
    const { client, close } = await open();
    try {
      // Concurrent statements each take a connection of the pool: all of them are set.
      const rows = await Promise.all(
        Array.from({ length: 8 }, () => client.execute("PRAGMA wal_autocheckpoint")),
      );
      expect(rows.map((r) => Number(r.rows[0]?.[0]))).toEqual(Array(8).fill(0));
    } finally {
      await close();
    }
  });

  // With autocheckpoint off and no thread, the database file would never grow:
  // every page written would stay in the WAL.
  it("run on the thread: written pages reach the database file", async () => {
    const { client, close, file } = await open();
    try {
      await client.execute("CREATE TABLE filler (b BLOB)");
      const before = statSync(file).size;
      for (let i = 0; i < 64; i++)
        await client.execute({
          sql: "INSERT INTO filler VALUES (?)",
          args: [new Uint8Array(64 * 1024)],
        });
      await waitFor(() => statSync(file).size >= before + 4 * 1024 * 1024, {
        timeoutMs: 20_000,
        what: "4 MiB of inserted pages in the database file",
      });
    } finally {
      await close();
    }
  });

  it("stop with the database: close ends the thread", async () => {
    const warnings: string[] = [];
    const { close } = await open({
      ...silentLogger,
      warn: (m) => warnings.push(m),
      error: (m) => warnings.push(m),
    });
    await close();
    expect(warnings).toEqual([]);
  });
});
