/**
 * A worker stalled past its lease at any step of publishing never puts its
 * tree in place of the one the worker that took its job over published
 * (found by `npm run soak -- --seed 6 --lease-ms 1000`: a compose `done`
 * with an emptied tree — the stalled worker's attempt dir, half deleted by
 * the other's cleanup, renamed into place). The lease check right before
 * the renames left a window: a worker stalled *after* it (held here at
 * `leased`) renamed the new owner's tree away and its own over it. Now
 * each execution publishes to a tree of its own and the served link is
 * pointed at the tree the fenced `done` commit chose (worker/published.ts).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, readdir, readFile, readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import { attemptDir } from "../../src/worker/handlers/generate.ts";
import type { JobPoint } from "../../src/worker/handlers/types.ts";
import { treeToken } from "../../src/worker/published.ts";
import { holdAt } from "../helpers/hold.ts";
import { leftoverProblems, publishedTreeProblems } from "../helpers/published-tree.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  await h?.stopAll();
});

/** Every file under `dir` (through the link at its top) with its sha256. */
async function treeBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) =>
    e.isFile(),
  )) {
    const path = join(f.parentPath, f.name);
    out[path.slice(dir.length + 1)] = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
  }
  return out;
}

const sweep = () =>
  removeLeftovers({ db: h.db, log: silentLogger, targetDir: h.target, now: () => h.clock.now() });

test.each<JobPoint>(["leased", "published", "staged"])(
  "a worker held at %s past its lease, released after another published and completed the compose, leaves that tree served",
  async (point) => {
    h = await composeHarness({ ODCS_WORKER_LEASE_MS: 60_000 });
    const c = await h.create({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
      flags: ["no_reuse"],
    });
    const held = holdAt(point);
    const stale = h.newWorker("stale", { at: held.at });
    expect(await stale.fill()).toBe(1);
    await held.reached;
    const staleToken = treeToken(1, "stale");
    if (point === "published") {
      // The first to publish is served before its commit.
      expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${staleToken}`);
      expect(existsSync(join(h.dir(c.id), "STATUS"))).toBe(true);
    } else expect(existsSync(attemptDir(h.target, c.id, 1))).toBe(true);

    h.clock.advance(61_000);
    const other = h.newWorker("other");
    expect(await other.fill()).toBe(1);
    await other.idle();
    const otherToken = treeToken(2, "other");
    expect(await h.row(c.id)).toMatchObject({ state: 2, publishedAttempt: otherToken });
    expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${otherToken}`);
    expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
    const served = await treeBytes(h.dir(c.id));
    expect(Object.keys(served).some((f) => f.endsWith(".rpm"))).toBe(true);

    held.go();
    await stale.idle();
    expect(await h.row(c.id)).toMatchObject({ state: 2, publishedAttempt: otherToken });
    expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${otherToken}`);
    expect(await treeBytes(h.dir(c.id))).toEqual(served);
    expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
    // The stale worker's trees are gone: staging and published.
    expect(existsSync(join(h.target, ".published", `odcs-${c.id}`, staleToken))).toBe(false);
    expect(await leftoverProblems(h.target)).toEqual([]);
    expect((await h.jobOf(c.id)).lockedBy).toBe("other");
  },
);

test("a worker held right after its last lease check, with its whole tree, publishes nothing over the new owner's", async () => {
  h = await composeHarness({ ODCS_WORKER_LEASE_MS: 60_000 });
  const c = await h.create({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_reuse"],
  });
  const held = holdAt("leased");
  const stale = h.newWorker("stale", { at: held.at });
  expect(await stale.fill()).toBe(1);
  await held.reached;
  // Its complete tree, kept aside: the new owner's cleanup deletes staging trees.
  const mine = attemptDir(h.target, c.id, 1);
  const aside = join(h.target, "aside");
  await cp(mine, aside, { recursive: true });
  h.clock.advance(61_000);
  const other = h.newWorker("other");
  expect(await other.fill()).toBe(1);
  await other.idle();
  const served = await treeBytes(h.dir(c.id));
  await cp(aside, mine, { recursive: true });
  await rm(aside, { recursive: true });
  // What the stale worker would publish differs from what is served (its log, at least).
  expect(await treeBytes(mine)).not.toEqual(served);

  held.go();
  await stale.idle();
  expect(await h.row(c.id)).toMatchObject({ state: 2, publishedAttempt: treeToken(2, "other") });
  expect(await treeBytes(h.dir(c.id))).toEqual(served);
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
  expect((await h.jobOf(c.id)).lockedBy).toBe("other");
});

test("the sweep points a link that is not the database's choice at it, and removes trees no one chose", async () => {
  h = await composeHarness({});
  const done = await h.run({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
    flags: ["no_reuse"],
  });
  const chosen = done.publishedAttempt;
  if (!chosen) throw new Error("no tree chosen");
  const served = await treeBytes(h.dir(done.id));
  // As after a crash of the owner between its commit and its flip, with a stale
  // worker's complete tree linked first: the link shows the unchosen tree.
  const root = join(h.target, ".published", `odcs-${done.id}`);
  await cp(join(root, chosen), join(root, "attempt-9-deadbeef"), { recursive: true });
  await rm(join(root, "attempt-9-deadbeef", "STATUS"));
  await rm(h.dir(done.id));
  await symlink(`.published/odcs-${done.id}/attempt-9-deadbeef`, h.dir(done.id));
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([
    `compose ${done.id}: odcs-${done.id} shows .published/odcs-${done.id}/attempt-9-deadbeef, not .published/odcs-${done.id}/${chosen}, the tree the database chose`,
    `compose ${done.id}: STATUS is absent, not FINISHED`,
  ]);
  expect(await leftoverProblems(h.target)).toEqual([
    `.published/odcs-${done.id}/${chosen} is not served: a tree no one chose`,
  ]);
  expect(await sweep()).toEqual([`.published/odcs-${done.id}/attempt-9-deadbeef`]);
  expect(await readlink(h.dir(done.id))).toBe(`.published/odcs-${done.id}/${chosen}`);
  expect(await treeBytes(h.dir(done.id))).toEqual(served);
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
});
