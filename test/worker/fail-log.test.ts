/**
 * A compose failed for good keeps its log at its toplevel URL even when the
 * sweep runs the moment the failure is committed (test/e2e/full-disk.test.ts
 * met it now and then: the server's sweep, every second there, took the
 * just-failed compose's staging tree for a crashed worker's leftovers while
 * its worker was about to publish the log from it — "settling a job failure
 * failed … ENOENT"). The log is published before the commit now.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import { holdAt } from "../helpers/hold.ts";
import { leftoverProblems, publishedTreeProblems } from "../helpers/published-tree.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  await h?.stopAll();
});

test("the sweep right after a failure is committed takes nothing the failed compose publishes", async () => {
  h = await composeHarness({});
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["no-such-package"] },
  });
  const errors: string[] = [];
  const failed = holdAt("failed");
  const w = h.newWorker("w1", {
    at: failed.at,
    log: {
      ...silentLogger,
      error: (msg, fields) => errors.push(`${msg} ${JSON.stringify(fields)}`),
    },
  });
  expect(await w.fill()).toBe(1);
  await failed.reached;
  expect(await h.row(c.id)).toMatchObject({ state: 4 });
  // The sweep (another process) now: the compose is settled, its staging tree a leftover.
  await removeLeftovers({
    db: h.db,
    log: silentLogger,
    targetDir: h.target,
    now: () => h.clock.now(),
  });
  failed.go();
  await w.idle();
  expect(errors).toEqual([]);
  expect(readdirSync(h.dir(c.id))).toEqual(["pungi-stderr.log"]);
  expect(readFileSync(join(h.dir(c.id), "pungi-stderr.log"), "utf8")).toContain("no-such-package");
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect(existsSync(join(h.target, ".staging", `odcs-${c.id}`))).toBe(false);
});
