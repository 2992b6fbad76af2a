/**
 * The fenced publish (worker/published.ts) on every path that publishes or
 * removes a tree: the cancel that beats `done`, a failure for good after an
 * earlier attempt linked its full tree (with and without a log of its own),
 * expiry, orphans, a flip's temporary link left by a crash, and a tree
 * published before trees were per attempt.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { markRemoved } from "../../src/db/composes.ts";
import { claimNextJob, requeueExpiredLeases } from "../../src/db/jobs.ts";
import { expireComposes, removeOrphanDirs } from "../../src/sweep/expire.ts";
import { removeLeftovers } from "../../src/sweep/leftovers.ts";
import { attemptDir, failGenerate } from "../../src/worker/handlers/generate.ts";
import { pointLink, treeToken } from "../../src/worker/published.ts";
import { holdAt } from "../helpers/hold.ts";
import { handJobContext } from "../helpers/job-context.ts";
import { leftoverProblems, publishedTreeProblems } from "../helpers/published-tree.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  await h?.stopAll();
});

const WGET = { source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] } };
const sweepDeps = () => ({
  db: h.db,
  log: silentLogger,
  targetDir: h.target,
  now: () => h.clock.now(),
});
const published = (id: number) => join(h.target, ".published", `odcs-${id}`);

test("a cancel that beats the done commit: the published tree is taken back to its log, chosen and shown", async () => {
  h = await composeHarness({});
  const c = await h.create({ ...WGET, flags: ["no_reuse"] });
  const held = holdAt("published");
  const w = h.newWorker("w", { at: held.at });
  expect(await w.fill()).toBe(1);
  await held.reached;
  const token = treeToken(1, "w");
  expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${token}`);
  const res = await h.request(`/api/1/composes/${c.id}`, { method: "DELETE" });
  expect(res.status).toBe(202);
  held.go();
  await w.idle();
  expect(await h.row(c.id)).toMatchObject({ state: 4, publishedAttempt: token });
  expect(readdirSync(h.dir(c.id))).toEqual(["pungi-stderr.log"]);
  expect(readFileSync(join(h.dir(c.id), "pungi-stderr.log"), "utf8")).toContain("Canceled by");
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
});

for (const ownLog of [false, true])
  test(`a failure for good after an earlier attempt linked its full tree ${ownLog ? "shows the failing attempt's log" : "cuts that tree down to its log"}; the stale attempt changes nothing`, async () => {
    h = await composeHarness({ ODCS_WORKER_LEASE_MS: 60_000 });
    const c = await h.create({ ...WGET, flags: ["no_reuse"] });
    const held = holdAt("published");
    const stale = h.newWorker("stale", { at: held.at });
    expect(await stale.fill()).toBe(1);
    await held.reached;
    const staleToken = treeToken(1, "stale");
    expect(existsSync(join(h.dir(c.id), "STATUS"))).toBe(true);

    h.clock.advance(61_000);
    await requeueExpiredLeases(h.db, h.clock.now().getTime());
    const job = await claimNextJob(h.db, "last", h.clock.now().getTime(), 60_000);
    if (!job) throw new Error("no job claimed");
    if (ownLog) {
      await mkdir(attemptDir(h.target, c.id, job.attempts), { recursive: true });
      await writeFile(join(attemptDir(h.target, c.id, job.attempts), "pungi-stderr.log"), "mine\n");
    }
    await failGenerate(c.id, "the last attempt's error", handJobContext(h, job, "last"));
    const chosen = ownLog ? treeToken(job.attempts, "last") : null;
    expect(await h.row(c.id)).toMatchObject({ state: 4, publishedAttempt: chosen });
    expect(await readlink(h.dir(c.id))).toBe(`.published/odcs-${c.id}/${chosen ?? staleToken}`);
    expect(readdirSync(h.dir(c.id))).toEqual(["pungi-stderr.log"]);
    if (ownLog) expect(readFileSync(join(h.dir(c.id), "pungi-stderr.log"), "utf8")).toBe("mine\n");

    held.go();
    await stale.idle();
    expect(await h.row(c.id)).toMatchObject({ state: 4, publishedAttempt: chosen });
    expect(readdirSync(h.dir(c.id))).toEqual(["pungi-stderr.log"]);
    expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
    await removeLeftovers(sweepDeps());
    expect(await leftoverProblems(h.target)).toEqual([]);
    expect(readdirSync(published(c.id))).toEqual([chosen ?? staleToken]);
  });

test("expiry removes the link, then every published tree; orphans and a flip's temporary link go too", async () => {
  h = await composeHarness({});
  const done = await h.run({ ...WGET, flags: ["no_reuse"], seconds_to_live: 60 });
  expect(done.state).toBe(2);
  const orphan = await h.run({ ...WGET, flags: ["no_reuse"], seconds_to_live: 60 });
  expect(await leftoverProblems(h.target)).toEqual([]);
  // As a crash leaves them: a removed compose's trees without its link, a flip cut short.
  h.clock.advance(61_000);
  expect(await markRemoved(h.db, await h.row(orphan.id), h.clock.now().getTime())).toBe(true);
  await rm(h.dir(orphan.id));
  await symlink(
    `.published/odcs-${done.id}/x`,
    join(h.target, `.odcs-${done.id}.link-0000-crashed`),
  );

  expect(await expireComposes({ ...sweepDeps(), log: silentLogger })).toEqual([done.id]);
  expect(existsSync(h.dir(done.id))).toBe(false);
  expect(existsSync(published(done.id))).toBe(false);
  expect(existsSync(published(orphan.id))).toBe(true);
  expect(await removeOrphanDirs(sweepDeps())).toEqual([orphan.id]);
  await removeLeftovers(sweepDeps());
  expect(existsSync(published(orphan.id))).toBe(false);
  expect(readdirSync(h.target).filter((n) => n.startsWith(".odcs-"))).toEqual([]);
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
  expect(await leftoverProblems(h.target)).toEqual([]);
});

test("a directory at odcs-<id> (published before trees were per attempt) is replaced by the link", async () => {
  h = await composeHarness({});
  const legacy = h.dir(7);
  await mkdir(join(legacy, "compose"), { recursive: true });
  await writeFile(join(legacy, "STATUS"), "FINISHED\n");
  await mkdir(join(published(7), "attempt-1-abcd"), { recursive: true });
  await writeFile(join(published(7), "attempt-1-abcd", "STATUS"), "new\n");
  await pointLink(h.target, 7, "attempt-1-abcd");
  expect(await readlink(legacy)).toBe(".published/odcs-7/attempt-1-abcd");
  expect(readFileSync(join(legacy, "STATUS"), "utf8")).toBe("new\n");
  await removeLeftovers(sweepDeps());
  expect(await leftoverProblems(h.target)).toEqual([]);
});
