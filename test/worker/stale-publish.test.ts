/**
 * A worker stalled past its lease between building its tree and publishing
 * it must not rename that tree over the compose another worker built,
 * published and completed meanwhile (found by `npm run soak -- --seed 6
 * --lease-ms 1000`: a compose `done` with an emptied tree — the stalled
 * worker's attempt dir, half deleted by the other's cleanup, renamed into
 * place). The lease is checked right before the renames.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { attemptDir } from "../../src/worker/handlers/generate.ts";
import { holdAt } from "../helpers/hold.ts";
import { publishedTreeProblems } from "../helpers/published-tree.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  await h?.stopAll();
});

test("a worker that lost its lease before publishing leaves the finished compose's tree alone", async () => {
  h = await composeHarness({ ODCS_WORKER_LEASE_MS: 60_000 });
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_reuse"],
  });
  const staged = holdAt("staged");
  const stale = h.newWorker("stale", { at: staged.at });
  expect(await stale.fill()).toBe(1);
  await staged.reached;
  // What the other worker's cleanup does to the stalled tree: parts deleted.
  const mine = attemptDir(h.target, c.id, 1);
  const tree = join(mine, "compose/Temporary");
  let deleted = 0;
  for (const f of await readdir(tree, { recursive: true }))
    if (f.endsWith(".rpm")) {
      await rm(join(tree, f));
      deleted++;
    }
  expect(deleted).toBeGreaterThan(0);

  h.clock.advance(61_000);
  const committed = holdAt("committed");
  const other = h.newWorker("other", { at: committed.at });
  expect(await other.fill()).toBe(1);
  await committed.reached;
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);

  staged.go();
  await stale.idle();
  committed.go();
  await other.idle();
  expect(await h.row(c.id)).toMatchObject({ state: 2 });
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect((await h.jobOf(c.id)).lockedBy).toBe("other");
});
