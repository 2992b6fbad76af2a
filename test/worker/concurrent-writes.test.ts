/**
 * Many state changes at the same moment in one process (issue 9, item 1):
 * composes failing and completing on two workers (two clients of one file),
 * cancels and renewals through the API, while GETs are timed. Before the
 * write lane, two failures recorded at once made one write spin in SQLite's
 * busy handler on the thread that held the other's lock: every request
 * waited for the busy timeout and the failure was lost (SQLITE_BUSY).
 */
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, expect, test } from "vitest";
import type { Logger } from "../../src/api/deps.ts";
import { eventChainProblems, unsettled } from "../helpers/events.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
beforeEach(async () => {
  h = await composeHarness({ ODCS_WORKER_CONCURRENCY: 4, ODCS_WORKER_POLL_MS: 10 });
});
afterEach(() => h.stopAll());

const N = 6;
const failing = { source: { type: "repo", source: LIBDNF_REPO, packages: ["no-such-package"] } };
const completing = {
  source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
  flags: ["no_deps"],
};

/** Every error the workers log (a lost job outcome is logged, not thrown). */
function recordingLogger(into: string[]): Logger {
  const noop = () => {};
  return {
    debug: noop,
    info: noop,
    warn: noop,
    error: (msg, fields) => into.push(`${msg} ${JSON.stringify(fields)}`),
  };
}

test(`${N} failures, ${N} completions, ${N} cancels and ${2 * N} renewals at once: every request within 1 s, every outcome recorded`, async () => {
  // Composes to renew: done ones (extended in place) and failed ones (regenerating copies).
  const done: number[] = [];
  const failed: number[] = [];
  for (let i = 0; i < N; i++) {
    done.push((await h.run(completing)).id);
    failed.push((await h.run(failing)).id);
  }
  const errors: string[] = [];
  const log = recordingLogger(errors);
  const workers = [h.newWorker("A", { log }), h.newWorker("B", { db: h.connect(), log })];

  const slowest = { ms: 0, what: "" };
  /** Status and JSON body of a request, timed to the last byte. */
  const timed = async (what: string, run: () => Response | Promise<Response>) => {
    const t0 = performance.now();
    const res = await run();
    const body = (await res.json()) as { id: number };
    const ms = performance.now() - t0;
    if (ms > slowest.ms) Object.assign(slowest, { ms, what });
    return { status: res.status, body };
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const res = await timed("GET", () => h.request(`/api/1/composes/${done[0]}`));
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  const created: number[] = [];
  const post = async (body: unknown) => {
    const res = await timed("POST", () => h.postJson("/api/1/composes/", body));
    expect(res.status).toBe(200);
    created.push(res.body.id);
    return res.body.id;
  };
  for (let i = 0; i < N; i++) {
    await post(failing);
    await post(completing);
  }
  for (const w of workers) w.start();
  await Promise.all([
    ...Array.from({ length: N }, async () => {
      const id = await post(completing);
      const res = await timed("DELETE", () =>
        h.request(`/api/1/composes/${id}`, { method: "DELETE" }),
      );
      // Canceled while waiting, or a worker took it first (then it is not done yet: 400).
      expect([202, 400]).toContain(res.status);
    }),
    ...[...done, ...failed].map(async (id) => {
      const res = await timed("PATCH", () =>
        h.request(`/api/1/composes/${id}`, { method: "PATCH", body: "{}" }),
      );
      expect(res.status).toBe(200);
      if (res.body.id !== id) created.push(res.body.id);
    }),
  ]);
  expect(created).toHaveLength(3 * N + N);

  await waitFor(async () => (await unsettled(h.db)).composes.length === 0, {
    timeoutMs: 60_000,
    what: "every compose settled",
  });
  polling = false;
  await poller;
  await Promise.all(workers.map((w) => w.stop(5_000)));

  expect(errors).toEqual([]);
  expect(slowest.ms, `slowest request: ${slowest.what}`).toBeLessThan(1000);
  expect(await unsettled(h.db)).toEqual({ composes: [], jobs: [] });
  expect(await eventChainProblems(h.db)).toEqual([]);
  for (const id of created) {
    const row = await h.row(id);
    const job = await h.jobOf(id);
    // Each job's outcome is recorded, and a done compose's job is done (a
    // compose that followed another one (§12) has a done job whatever the outcome).
    expect(["done", "failed"], `compose ${id}`).toContain(job.state);
    if (row.state === 2) expect(job.state, `compose ${id}`).toBe("done");
  }
}, 120_000);
