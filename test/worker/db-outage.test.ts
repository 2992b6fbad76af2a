/**
 * untilStored (worker/db-outage.ts): a write the database refuses for want
 * of space (or a lock, an I/O error) is tried again until it is taken; any
 * other error, or a halt, ends it. The errors are libSQL's own shapes (a
 * real SQLITE_FULL on a real full disk is in test/e2e/full-disk.test.ts).
 */
import { LibsqlError } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { isDatabaseFull, isDatabaseUnavailable, untilStored } from "../../src/worker/db-outage.ts";

const full = () => new LibsqlError("SQLITE_FULL: database or disk is full", "SQLITE_FULL");
const wrapped = (e: Error) => new Error(`Failed query: update "jobs" …`, { cause: e });

describe("untilStored", () => {
  it("tries a refused write again until the database takes it", async () => {
    let calls = 0;
    const result = await untilStored(
      async () => {
        calls++;
        if (calls < 3) throw wrapped(full());
        return "stored";
      },
      { halt: new AbortController().signal, log: silentLogger, what: "test" },
    );
    expect(result).toBe("stored");
    expect(calls).toBe(3);
  });

  it("throws any other error at once, and a refusal once halted", async () => {
    let calls = 0;
    const boom = new Error("no such table: jobs");
    await expect(
      untilStored(
        async () => {
          calls++;
          throw boom;
        },
        { halt: new AbortController().signal, log: silentLogger, what: "test" },
      ),
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
    const halt = new AbortController();
    calls = 0;
    const p = untilStored(
      async () => {
        calls++;
        if (calls === 2) halt.abort();
        throw wrapped(full());
      },
      { halt: halt.signal, log: silentLogger, what: "test" },
    );
    await expect(p).rejects.toThrow(/Failed query/);
    expect(calls).toBe(2);
  });
});

describe("isDatabaseFull / isDatabaseUnavailable", () => {
  it("tell a full database from a busy one and from other errors", () => {
    expect(isDatabaseFull(wrapped(full()))).toBe(true);
    const busy = new LibsqlError("SQLITE_BUSY: database is locked", "SQLITE_BUSY");
    expect(isDatabaseFull(busy)).toBe(false);
    expect(isDatabaseUnavailable(busy)).toBe(true);
    expect(isDatabaseUnavailable(new Error("ENOSPC: no space left on device, write"))).toBe(false);
  });
});
