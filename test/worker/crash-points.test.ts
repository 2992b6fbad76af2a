/**
 * Crash consistency of every compose state change (issue 9, item 6). Each
 * path — creation, start of generation and completion, failure, the sweep
 * failing an exhausted job, removal, cancel, the regenerating copy of a
 * renewal — is run once to count its writes, then once per write with the
 * process "dying" just before it: that write and every later one of the
 * process fail (the db layer's fault point), as after a kill. A fresh worker
 * and sweep then take over (the clock past every lease), and every compose
 * must reach a final state with exactly one event per state change.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { setWriteFault } from "../../src/db/client.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { claimNextJob } from "../../src/db/jobs.ts";
import { expireComposes, removeOrphanDirs } from "../../src/sweep/expire.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { eventChainProblems, unsettled } from "../helpers/events.ts";
import { DAY_MS } from "../helpers/given.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

type Harness = Awaited<ReturnType<typeof composeHarness>>;

class Crash extends Error {
  override name = "Crash";
}

const completing = {
  source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
  flags: ["no_deps"],
};
const failing = { source: { type: "repo", source: LIBDNF_REPO, packages: ["no-such-package"] } };

const sweepDeps = (h: Harness) => ({
  db: h.db,
  now: () => h.clock.now(),
  log: silentLogger,
  targetDir: h.target,
});

/** One worker run over the queue until it is empty (the worker of the process that dies). */
async function drain(h: Harness, name: string): Promise<void> {
  const w = h.newWorker(name);
  while ((await w.fill()) > 0) await w.idle();
  await w.idle();
}

interface Scenario {
  name: string;
  config?: Record<string, unknown>;
  /** Brings the database to where the path starts; not counted. */
  setup: (h: Harness) => Promise<void>;
  /** The path whose writes are crashed. */
  act: (h: Harness) => unknown;
}

const SCENARIOS: Scenario[] = [
  {
    name: "creation (POST)",
    setup: async () => {},
    act: (h) => h.postJson("/api/1/composes/", completing),
  },
  {
    name: "start of generation and completion (worker)",
    setup: async (h) => void (await h.create(completing)),
    act: (h) => drain(h, "dies"),
  },
  {
    name: "failure (worker)",
    setup: async (h) => void (await h.create(failing)),
    act: (h) => drain(h, "dies"),
  },
  {
    name: "the sweep failing an exhausted job",
    config: { ODCS_JOB_MAX_ATTEMPTS: 1 },
    setup: async (h) => {
      const c = await h.create(completing);
      const now = h.clock.now().getTime();
      await claimNextJob(h.db, "gone", now, h.config.ODCS_WORKER_LEASE_MS);
      await moveCompose(h.db, c.id, "wait", "generating", now);
      h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
    },
    act: (h) => requeueAndFailJobs(sweepDeps(h)),
  },
  {
    name: "removal (expiry sweep)",
    setup: async (h) => {
      await h.run(completing);
      await h.run(failing);
      h.clock.advance(DAY_MS + 1);
    },
    act: (h) => expireComposes(sweepDeps(h)),
  },
  {
    name: "cancel (DELETE of a waiting compose)",
    setup: async (h) => void (await h.create(completing)),
    act: (h) => h.request("/api/1/composes/1", { method: "DELETE" }),
  },
  {
    name: "regenerating copy of a renewal (PATCH of a failed compose)",
    setup: async (h) => void (await h.run(failing)),
    act: (h) => h.request("/api/1/composes/1", { method: "PATCH", body: "{}" }),
  },
];

/**
 * Run `s` with the process dying before its write number `crashAt`
 * (Infinity: never); returns how many writes the path made (or tried).
 */
async function runOnce(s: Scenario, crashAt: number): Promise<{ h: Harness; writes: number }> {
  const h = await composeHarness(s.config);
  await s.setup(h);
  let writes = 0;
  setWriteFault(h.db, (statement) => {
    writes++;
    if (writes >= crashAt)
      throw new Crash(`died before write ${writes}: ${statement.slice(0, 80)}`);
  });
  await Promise.resolve()
    .then(() => s.act(h))
    .catch(() => {});
  setWriteFault(h.db, undefined);
  return { h, writes };
}

/** A new process takes over: leases run out, the sweep and a worker run until nothing is left. */
async function recover(h: Harness): Promise<void> {
  for (let round = 0; round < 5; round++) {
    h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
    await requeueAndFailJobs(sweepDeps(h));
    await drain(h, `recovery-${round}`);
    await expireComposes(sweepDeps(h));
    await removeOrphanDirs(sweepDeps(h));
    const left = await unsettled(h.db);
    if (left.composes.length === 0 && left.jobs.length === 0) return;
  }
}

async function checkSettled(h: Harness, what: string): Promise<void> {
  expect(await unsettled(h.db), what).toEqual({ composes: [], jobs: [] });
  expect(await eventChainProblems(h.db), what).toEqual([]);
  for (const id of (await h.db.query.composes.findMany()).map((c) => c.id)) {
    const row = await h.row(id);
    const repomd = join(h.dir(id), "compose/Temporary/x86_64/os/repodata/repomd.xml");
    if (row.state === 2) expect(existsSync(repomd), `${what}: compose ${id} done`).toBe(true);
    if (row.state === 3)
      expect(existsSync(h.dir(id)), `${what}: compose ${id} removed`).toBe(false);
  }
}

describe("a crash before any write of a state change leaves every compose able to settle", () => {
  for (const s of SCENARIOS) {
    test(s.name, async () => {
      const baseline = await runOnce(s, Number.POSITIVE_INFINITY);
      await recover(baseline.h);
      await checkSettled(baseline.h, "without a crash");
      await baseline.h.stopAll();
      expect(baseline.writes).toBeGreaterThan(0);
      for (let n = 1; n <= baseline.writes; n++) {
        const { h } = await runOnce(s, n);
        await recover(h);
        await checkSettled(h, `${s.name}, died before write ${n} of ${baseline.writes}`);
        await h.stopAll();
      }
    }, 120_000);
  }
});
