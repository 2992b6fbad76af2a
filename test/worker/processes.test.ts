/**
 * Several separate OS processes running the real `odcs-worker` entry point
 * (`tsx src/worker.ts`) against one libSQL file: every compose is generated
 * exactly once, and SIGTERM stops each process cleanly.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { composeHarness, LIBDNF_REPO, startService } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

test("30 composes, 3 worker processes on one DB file: each generated exactly once", async () => {
  const h = await composeHarness();
  // The worker processes read the real clock; jobs must be due by it.
  h.clock.set(new Date());
  const env = (id: string) => ({
    ODCS_DATABASE_URL: h.dbUrl,
    ODCS_TARGET_DIR: h.target,
    ODCS_TARGET_DIR_URL: "http://localhost/odcs",
    ODCS_WORKER_ID: id,
    ODCS_WORKER_CONCURRENCY: "2",
    ODCS_WORKER_POLL_MS: "20",
  });
  const procs = await Promise.all(
    ["p1", "p2", "p3"].map((id) =>
      startService({ entry: "src/worker.ts", env: env(id), readyText: "worker started" }),
    ),
  );
  // Created while all three poll, so they race for every job.
  const ids: number[] = [];
  for (let i = 0; i < 30; i++) {
    const c = await h.create({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
      // Built each, not reused: this counts generations.
      flags: ["no_deps", "no_reuse"],
    });
    ids.push(c.id);
  }
  try {
    await waitFor(
      async () => {
        const rows = await Promise.all(ids.map((id) => h.row(id)));
        return rows.every((r) => r.state === 2);
      },
      { timeoutMs: 45_000, intervalMs: 50, what: "30 composes done" },
    );
  } finally {
    const codes = await Promise.all(procs.map((p) => p.stop()));
    expect(codes).toEqual([0, 0, 0]);
  }
  const who = new Map<string, number>();
  for (const id of ids) {
    const log = await readFile(join(h.dir(id), "pungi-stderr.log"), "utf8");
    const lines = log.split("\n").filter((l) => / attempt \d+ on worker /.test(l));
    expect(lines, `compose ${id}`).toHaveLength(1);
    const w = /on worker (p\d)$/.exec(lines[0] ?? "")?.[1] ?? "?";
    who.set(w, (who.get(w) ?? 0) + 1);
    expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 1 });
  }
  expect([...who.keys()].every((w) => ["p1", "p2", "p3"].includes(w))).toBe(true);
  expect(who.size, JSON.stringify([...who])).toBeGreaterThan(1);
});
