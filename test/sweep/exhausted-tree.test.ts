/**
 * Found by the soak (seed 8, heavy load): a worker publishes a compose's
 * tree and dies before it records the compose done; the job's later
 * attempts are lost too, and the sweep fails the exhausted job. The failed
 * compose must then show its log only, as every failed compose does, and
 * not the whole tree with STATUS FINISHED that the dead worker left.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { setWriteFault } from "../../src/db/client.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { LOG_FILE } from "../../src/worker/paths.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

class Crash extends Error {
  override name = "Crash";
}

type Harness = Awaited<ReturnType<typeof composeHarness>>;

const sweep = async (h: Harness) => {
  const { failed } = await requeueAndFailJobs({
    db: h.db,
    now: () => h.clock.now(),
    log: silentLogger,
    targetDir: h.target,
  });
  expect(failed).toHaveLength(1);
};
/** Another worker's poll: it requeues and fails exhausted jobs before it claims. */
const nextWorker = async (h: Harness) => {
  const w = h.newWorker("next");
  expect(await w.fill()).toBe(0);
};

test.each([
  ["the sweep", sweep],
  ["another worker's poll", nextWorker],
])(
  "a compose published but never recorded done, failed by %s, shows its log only",
  async (_, recover) => {
    const h = await composeHarness({ ODCS_JOB_MAX_ATTEMPTS: 1 });
    try {
      const c = await h.create({
        source: { type: "repo", source: LIBDNF_REPO, packages: ["dwm"] },
        flags: ["no_deps"],
      });
      // The worker dies at the completion: the tree is published, nothing more is written.
      // That write and every later one of the process fail, as after a kill.
      let dead = false;
      setWriteFault(h.db, (statement) => {
        dead ||= statement.startsWith('update "jobs" set "state" = ?, "lease_until" = ?');
        if (dead) throw new Crash(`died before: ${statement.slice(0, 60)}`);
      });
      const dying = h.newWorker("dies");
      await dying.fill();
      await dying.idle();
      setWriteFault(h.db, undefined);
      expect(readdirSync(h.dir(c.id)).sort()).toEqual([
        "COMPOSE_ID",
        "STATUS",
        "compose",
        LOG_FILE,
      ]);
      expect((await h.row(c.id)).state).toBe(1);

      h.clock.advance(h.config.ODCS_WORKER_LEASE_MS + 1);
      await recover(h);
      const row = await h.row(c.id);
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(/gave up after 1 attempts/);
      expect(readdirSync(h.dir(c.id))).toEqual([LOG_FILE]);
      expect(existsSync(join(h.dir(c.id), "STATUS"))).toBe(false);
      expect(await h.rpms(c.id)).toEqual([]);
    } finally {
      await h.stopAll();
    }
  },
);
