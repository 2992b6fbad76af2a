/**
 * What crashed processes leave behind, removed by the sweep (and, for the
 * target dir, at worker start): staging trees of composes no job can be
 * building, cut-short deletions in .removing, upload dirs of a removed row
 * or of no row once untouched past ODCS_UPLOAD_ABANDONED_SECONDS — and
 * nothing that a live compose or upload still needs.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { cancelComposeJobs, claimNextJob, enqueueJob } from "../../src/db/jobs.ts";
import { insertUpload } from "../../src/db/uploads.ts";
import { removeAbandonedUploads } from "../../src/sweep/expire-uploads.ts";
import { removeLeftovers, removeTree } from "../../src/sweep/leftovers.ts";
import { createTestDb, tempDir } from "../helpers/db.ts";
import { givenCompose } from "../helpers/given.ts";

const NOW = Date.UTC(2026, 11, 7, 12);

test("stale staging trees and .removing go; those of composes in wait or generating stay", async () => {
  const { db } = await createTestDb();
  const target = tempDir("odcs-leftovers-");
  const states = { 1: 0, 2: 1, 3: 2, 4: 4, 5: 3 } as const;
  for (const [id, state] of Object.entries(states))
    await givenCompose(db, { id: Number(id), state });
  for (const id of [1, 2, 3, 4, 5, 99])
    await mkdir(join(target, ".staging", `odcs-${id}`, "attempt-1", "compose"), {
      recursive: true,
    });
  await mkdir(join(target, ".removing", "odcs-7-x", "compose"), { recursive: true });
  const deps = { db, log: silentLogger, targetDir: target, now: () => new Date(NOW) };
  expect((await removeLeftovers(deps)).sort()).toEqual(
    [
      ".removing/odcs-7-x",
      ".staging/odcs-3",
      ".staging/odcs-4",
      ".staging/odcs-5",
      ".staging/odcs-99",
    ].sort(),
  );
  expect((await readdir(join(target, ".staging"))).sort()).toEqual(["odcs-1", "odcs-2"]);
  expect(await readdir(join(target, ".removing"))).toEqual([]);
  expect(await removeLeftovers(deps)).toEqual([]);
});

/**
 * Found by the soak's kills at random moments (`--crash-points 0.5 --seed 1`):
 * a compose's first attempt published its whole tree and was killed before
 * recording done, its later attempts died too, and the server that failed
 * the exhausted job was killed after that commit, before it had cleared the
 * tree (clearFailedCompose). The failed compose showed COMPOSE_ID, STATUS and
 * compose/. What the crash left says the clearing was not finished: the
 * compose's staging trees.
 */
test("a failed compose whose clearing a crash cut short shows its log only after the next run", async () => {
  const { db } = await createTestDb();
  const target = tempDir("odcs-leftovers-failed-");
  await givenCompose(db, { id: 57, state: 4 });
  await givenCompose(db, { id: 58, state: 2 });
  for (const id of [57, 58]) {
    const dir = join(target, `odcs-${id}`);
    await mkdir(join(dir, "compose", "Temporary", "x86_64", "os"), { recursive: true });
    await writeFile(join(dir, "STATUS"), "FINISHED\n");
    await writeFile(join(dir, "COMPOSE_ID"), `odcs-${id}\n`);
    await writeFile(join(dir, "pungi-stderr.log"), "attempt 1\n");
    await mkdir(join(target, ".staging", `odcs-${id}`, "attempt-3"), { recursive: true });
  }
  const deps = { db, log: silentLogger, targetDir: target, now: () => new Date(NOW) };
  expect((await removeLeftovers(deps)).sort()).toEqual([".staging/odcs-57", ".staging/odcs-58"]);
  expect(await readdir(join(target, "odcs-57"))).toEqual(["pungi-stderr.log"]);
  // A done compose's tree is its own: only its staging leftovers go.
  expect((await readdir(join(target, "odcs-58"))).sort()).toEqual(
    ["COMPOSE_ID", "STATUS", "compose", "pungi-stderr.log"].sort(),
  );
  expect(await readdir(join(target, ".staging"))).toEqual([]);
});

test("removeTree takes the served path away at once and deletes the tree", async () => {
  const target = tempDir("odcs-remove-tree-");
  const dir = join(target, "odcs-3");
  await mkdir(join(dir, "compose"), { recursive: true });
  await writeFile(join(dir, "STATUS"), "FINISHED\n");
  await removeTree(target, dir);
  expect(existsSync(dir)).toBe(false);
  expect(await readdir(join(target, ".removing"))).toEqual([]);
  await removeTree(target, dir); // gone already: no error
});

test("upload dirs: ready kept, removed row's files go, no row goes once untouched past the bound", async () => {
  const { db } = await createTestDb();
  const root = tempDir("odcs-uploads-");
  const now = Date.parse("2026-12-07T00:00:00Z");
  const ids = {
    ready: randomUUID(),
    removed: randomUUID(),
    fresh: randomUUID(),
    stale: randomUUID(),
  };
  for (const [kind, id] of Object.entries(ids)) {
    await mkdir(join(root, id));
    await writeFile(join(root, id, ".part-0"), "rpm bytes");
    if (kind === "ready" || kind === "removed")
      await insertUpload(db, {
        id,
        owner: "alice",
        state: kind,
        bytes: 9,
        files: "[]",
        timeCreated: now - 10_000,
        timeToExpire: now + 3_600_000,
      });
  }
  // Everything in the stale one last changed two hours ago; the others just now.
  const old = new Date(now - 7_200_000);
  for (const kind of ["ready", "stale"] as const) {
    await utimes(join(root, ids[kind], ".part-0"), old, old);
    await utimes(join(root, ids[kind]), old, old);
  }
  for (const kind of ["fresh", "removed"] as const) {
    const recent = new Date(now - 1000);
    await utimes(join(root, ids[kind], ".part-0"), recent, recent);
    await utimes(join(root, ids[kind]), recent, recent);
  }
  await mkdir(join(root, "not-an-upload"));
  const deps = {
    db,
    now: () => new Date(now),
    log: silentLogger,
    targetDir: tempDir(),
    uploadDir: root,
    uploadAbandonedMs: 3_600_000,
  };
  expect((await removeAbandonedUploads(deps)).sort()).toEqual([ids.removed, ids.stale].sort());
  expect((await readdir(root)).sort()).toEqual([ids.ready, ids.fresh, "not-an-upload"].sort());
  // An hour later the unrecorded one is abandoned too; the ready one never is.
  const later = { ...deps, now: () => new Date(now + 3_600_000) };
  expect(await removeAbandonedUploads(later)).toEqual([ids.fresh]);
  expect((await readdir(root)).sort()).toEqual([ids.ready, "not-an-upload"].sort());
});

// Found by the checker's review: a cancel commits `failed` and ends the job's
// lease at once, while the worker that held it still discards its run in the
// staging tree (publishes the log, takes back a tree it published in the
// race). The sweep took that tree as a crash's leftover from under it.
test("a cancelled job's staging tree stays for a lease after the cancel, then goes", async () => {
  const { db } = await createTestDb();
  const target = tempDir("odcs-leftovers-canceled-");
  await givenCompose(db, { id: 60, state: 4 });
  await enqueueJob(db, { composeId: 60, kind: "generate", now: NOW, maxAttempts: 3 });
  expect(await claimNextJob(db, "w1", NOW, 30_000)).toMatchObject({ composeId: 60 });
  await cancelComposeJobs(db, 60, NOW);
  await mkdir(join(target, ".staging", "odcs-60", "attempt-1", "compose"), { recursive: true });
  const at = (ms: number) => ({
    db,
    log: silentLogger,
    targetDir: target,
    now: () => new Date(ms),
    leaseMs: 30_000,
  });
  expect(await removeLeftovers(at(NOW + 29_000))).toEqual([]);
  expect(existsSync(join(target, ".staging", "odcs-60"))).toBe(true);
  expect(await removeLeftovers(at(NOW + 31_000))).toEqual([".staging/odcs-60"]);
  expect(existsSync(join(target, ".staging", "odcs-60"))).toBe(false);
});
