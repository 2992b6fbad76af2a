/**
 * Kills at moments of our choosing, worker side: for each crash point of a
 * compose (ODCS_TEST_CRASH_AT, src/crash-points.ts) a real worker process
 * (src/worker.ts) stops itself exactly there, what is visible at that
 * moment is checked, it is killed with SIGKILL, and a new worker process
 * takes the job over. Then: the compose is done, its published tree is
 * exactly its compose_rpms (byte for byte, repodata consistent, STATUS
 * FINISHED), nothing is left in .staging or .removing, no job was completed
 * twice, every state change has its event, and the sweep, once it
 * expires, removes it all. More moments: crash-moments-tools.test.ts.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, test } from "vitest";
import type { CrashPoint } from "../../src/crash-points.ts";
import { composeRpms } from "../../src/db/schema.ts";
import { stoppedAt } from "../helpers/crash-invariants.ts";
import {
  checkRecovered,
  closeAll,
  type Harness,
  NAMES,
  published,
  REQUEST,
  settled,
  setup,
} from "../helpers/crash-worker.ts";

afterAll(closeAll);

interface PointCase {
  point: CrashPoint;
  config?: Record<string, unknown>;
  /** What is served at the moment of the kill. */
  visible: "absent" | "complete";
  /** Checks of the moment itself (the process stopped there). */
  atMoment?: (h: Harness, id: number) => Promise<void>;
}

const attemptDir = (h: Harness, id: number, n: number) =>
  join(h.target, ".staging", `odcs-${id}`, `attempt-${n}`);

const POINT_CASES: PointCase[] = [
  {
    point: "generate:started",
    visible: "absent",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 1 });
      expect(await h.jobOf(id)).toMatchObject({ state: "running", attempts: 1 });
      expect(await h.rpms(id)).toEqual([]);
    },
  },
  {
    // createrepo_c reads the RPMs, so with it nothing of the repodata exists before they are all placed.
    point: "generate:placed",
    config: { ODCS_REPODATA_WRITER: "createrepo_c" },
    visible: "absent",
    atMoment: async (h, id) => {
      const repo = join(attemptDir(h, id, 1), "compose/Temporary/x86_64/os");
      const rpms = (await readdir(join(repo, "Packages"), { recursive: true })).filter((f) =>
        String(f).endsWith(".rpm"),
      );
      expect(rpms).toHaveLength(3);
      expect(existsSync(join(repo, "repodata/repomd.xml"))).toBe(false);
    },
  },
  {
    point: "generate:repodata",
    visible: "absent",
    atMoment: async (h, id) => {
      const repodata = join(attemptDir(h, id, 1), "compose/Temporary/x86_64/os/repodata");
      const files = await readdir(repodata);
      expect(files.some((f) => f.includes("primary"))).toBe(true);
      expect(files).not.toContain("repomd.xml");
    },
  },
  {
    point: "generate:staged",
    visible: "absent",
    atMoment: async (h, id) => {
      expect(existsSync(join(attemptDir(h, id, 1), "STATUS"))).toBe(true);
      // Recorded under the job's lease (listed once the compose is done).
      const rows = await h.db.select().from(composeRpms).where(eq(composeRpms.composeId, id));
      expect(rows.map((r) => r.name).sort()).toEqual(NAMES);
    },
  },
  {
    point: "generate:published",
    visible: "complete",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 1 });
      expect(await h.jobOf(id)).toMatchObject({ state: "running" });
    },
  },
  {
    point: "generate:done",
    visible: "complete",
    atMoment: async (h, id) => {
      expect(await h.row(id)).toMatchObject({ state: 2 });
      expect(await h.jobOf(id)).toMatchObject({ state: "done" });
      // The done attempt's staging dir is still there: nothing after the commit ran.
      expect(existsSync(join(h.target, ".staging", `odcs-${id}`))).toBe(true);
    },
  },
];

describe("a worker killed at a crash point, then a new worker", () => {
  for (const c of POINT_CASES) {
    test(c.point, async () => {
      const { h, worker, procs } = await setup(c.config);
      const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: c.point });
      const { id } = await h.create(REQUEST);
      await stoppedAt(doomed, c.point);
      expect(published(h, id)).toBe(c.visible);
      await c.atMoment?.(h, id);
      await doomed.kill();
      await worker("rescuer");
      await settled(h, id);
      const job = await h.jobOf(id);
      // Killed after its commit, the first worker had completed the job itself.
      expect(job).toMatchObject({ state: "done", attempts: c.point === "generate:done" ? 1 : 2 });
      expect(published(h, id)).toBe("complete");
      await checkRecovered(h, procs, id, "done");
    }, 120_000);
  }
});
