/**
 * Compose reuse (§12) with the real API, real Workers, a real libSQL file
 * and real yum repos built by createrepo_c: a request equal to a live done
 * compose is done at once pointing at it; `no_reuse`, a changed repomd or
 * other inputs build anew; a compose being built is followed through the
 * §10.1 cascade; removing the original keeps the files its reusers point
 * at; renewing a reusing compose extends both, or regenerates the same
 * NEVRAs once removed.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { composeRpms, events } from "../../src/db/schema.ts";
import { ComposeError } from "../../src/sources/errors.ts";
import { repoSource } from "../../src/sources/repo.ts";
import { expireComposes, removeOrphanDirs } from "../../src/sweep/expire.ts";
import { requeueAndFailJobs } from "../../src/sweep/requeue.ts";
import { tempDir } from "../helpers/db.ts";
import { DAY_MS, givenCompose } from "../helpers/given.ts";
import { buildRpm } from "../helpers/rpmbuild.ts";
import {
  type ComposeJson,
  composeHarness,
  dnfInstallWithRepoFile,
  LIBDNF_REPO,
  repoServer,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const run = promisify(execFile);
const HOUR_MS = 3_600_000;
const URL_BASE = "http://localhost/odcs";

/** A yum repo of a few fixture RPMs in a temp dir. */
async function makeRepo(): Promise<string> {
  const dir = tempDir("odcs-reuse-repo-");
  for (const f of [
    "noarch/abcde-2.9.2-1.fc29.noarch.rpm",
    "x86_64/wget-1.19.5-5.fc29.x86_64.rpm",
    "x86_64/flac-1.3.2-8.fc29.x86_64.rpm",
  ])
    await copyFile(join(LIBDNF_REPO, f), join(dir, f.split("/")[1] ?? f));
  await run("createrepo_c", ["-q", dir]);
  return dir;
}

/** The repo gains a newer wget: a new repomd.xml. */
async function moveOn(dir: string): Promise<void> {
  const newer = await buildRpm({
    name: "wget",
    version: "1.21.0",
    release: "1",
    arch: "x86_64",
    files: ["/usr/bin/wget"],
  });
  await copyFile(newer.path, join(dir, newer.fileName));
  await run("createrepo_c", ["-q", dir]);
}

const repomdPin = async (dir: string) =>
  `sha256:${createHash("sha256")
    .update(await readFile(join(dir, "repodata/repomd.xml")))
    .digest("hex")}`;

const nevras = (rows: { treeArch: string; name: string; version: string; arch: string }[]) =>
  rows.map((r) => `${r.treeArch} ${r.name}-${r.version}.${r.arch}`).sort();

let h: Awaited<ReturnType<typeof composeHarness>>;
let repo: string;
let body: Record<string, unknown>;
const deps = () => ({
  db: h.db,
  now: () => h.clock.now(),
  log: silentLogger,
  targetDir: h.target,
});
async function stateChanges(id: number): Promise<string[]> {
  const rows = await h.db.select().from(events).where(eq(events.composeId, id));
  return rows.map((e) => `${e.fromState}->${e.toState}`);
}
async function patch(id: number, json: Record<string, unknown> = {}): Promise<ComposeJson> {
  const res = await h.request(`/api/1/composes/${id}`, {
    method: "PATCH",
    body: JSON.stringify(json),
    headers: { "Content-Type": "application/json" },
  });
  const out = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(out)).toBe(200);
  return out;
}
async function drain(): Promise<void> {
  const w = h.newWorker();
  while ((await w.fill()) > 0) await w.idle();
}

beforeEach(async () => {
  h = await composeHarness();
  repo = await makeRepo();
  body = { source: { type: "repo", source: repo, packages: ["abcde"] } };
});

describe("the same request twice", () => {
  test("the second is done at once with reused_id, sharing the first's files, package set and expiry", async () => {
    const first = await h.run(body);
    expect(first).toMatchObject({
      state: 2,
      reusedId: null,
      sourcePins: JSON.stringify({
        lookaside: [],
        repomd: { [repo]: await repomdPin(repo) },
        source: [repo],
      }),
    });
    h.clock.advance(HOUR_MS);
    const second = await h.run({ ...body, seconds_to_live: 2 * 86400 });
    const now = h.clock.now().getTime();
    expect(second).toMatchObject({
      state: 2,
      stateReason: "Compose is generated successfully",
      reusedId: first.id,
      pungiComposeId: first.pungiComposeId,
      kojiEvent: first.kojiEvent,
      sourcePins: first.sourcePins,
      timeDone: now,
      // Both get the later of the two expiries (§11.2): the second's, counted from done.
      timeToExpire: now + 2 * DAY_MS,
    });
    expect((await h.row(first.id)).timeToExpire).toBe(now + 2 * DAY_MS);
    expect(await stateChanges(second.id)).toEqual(["null->0", "0->1", "1->2"]);
    expect((await h.jobOf(second.id)).state).toBe("done");

    // The URLs name the original's directory; the reuser has none of its own.
    const json = await h.get(second.id);
    expect(json).not.toHaveProperty("reused_id"); // not exposed (§3)
    expect(json).toMatchObject({
      toplevel_url: `${URL_BASE}/odcs-${first.id}`,
      result_repofile: `${URL_BASE}/odcs-${first.id}/compose/Temporary/odcs-${first.id}.repo`,
    });
    expect(existsSync(h.dir(second.id))).toBe(false);
    expect(await readdir(join(h.target, ".staging"))).toEqual([]);
    expect(nevras(await h.rpms(second.id))).toEqual(nevras(await h.rpms(first.id)));
    expect(await h.rpms(second.id)).not.toEqual([]);

    // What the reuser's repo file hands out installs.
    const repoFile = `${h.dir(first.id)}/compose/Temporary/odcs-${first.id}.repo`;
    expect(json.result_repofile).toBe(repoFile.replace(h.target, URL_BASE));
    const installed = await dnfInstallWithRepoFile(await readFile(repoFile, "utf8"), ["abcde"], {
      rewrite: [URL_BASE, `file://${h.target}`],
    });
    expect(installed).toContain("abcde-0:2.9.2-1.fc29.noarch");
  });

  test("packages in another order are the same request; other packages are not", async () => {
    const first = await h.run({
      source: { type: "repo", source: repo, packages: ["abcde", "wget"] },
    });
    const same = await h.run({
      source: { type: "repo", source: repo, packages: ["wget", "abcde"] },
    });
    expect(same.reusedId).toBe(first.id);
    const other = await h.run({ source: { type: "repo", source: repo, packages: ["wget"] } });
    expect(other).toMatchObject({ state: 2, reusedId: null });
    expect(existsSync(join(h.dir(other.id), "compose"))).toBe(true);
    const log = await readFile(join(h.dir(other.id), "pungi-stderr.log"), "utf8");
    expect(log).toContain("inputs pinned; no compose to reuse");
  });

  test("no_reuse builds anew, into its own directory", async () => {
    const first = await h.run(body);
    const fresh = await h.run({ ...body, flags: ["no_reuse"] });
    expect(fresh).toMatchObject({ state: 2, reusedId: null, sourcePins: first.sourcePins });
    expect(fresh.pungiComposeId).not.toBe(first.pungiComposeId);
    expect(existsSync(join(h.dir(fresh.id), "compose/Temporary/x86_64/os/repodata"))).toBe(true);
  });

  test("a changed repository (new repomd.xml) builds anew, and the next request reuses that", async () => {
    const first = await h.run(body);
    await moveOn(repo);
    const second = await h.run(body);
    expect(second).toMatchObject({ state: 2, reusedId: null });
    expect(second.sourcePins).toContain(`{"${repo}":"${await repomdPin(repo)}"}`);
    expect(second.sourcePins).not.toBe(first.sourcePins);
    expect(nevras(await h.rpms(second.id))).toContain("x86_64 wget-1.21.0.x86_64");
    const third = await h.run(body);
    expect(third.reusedId).toBe(second.id);
  });

  test("a changed lookaside repository builds anew", async () => {
    const lookaside = await makeRepo();
    const withLookaside = { ...body, lookaside_repos: [lookaside] };
    const first = await h.run(withLookaside);
    expect((await h.run(withLookaside)).reusedId).toBe(first.id);
    await moveOn(lookaside);
    expect(await h.run(withLookaside)).toMatchObject({ state: 2, reusedId: null });
  });

  test("an original that was asked to be removed is not reused", async () => {
    const first = await h.run(body);
    expect((await h.request(`/api/1/composes/${first.id}`, { method: "DELETE" })).status).toBe(202);
    expect((await h.run(body)).reusedId).toBeNull();
  });

  test("a requested package missing from the original's package set fails the reuser (§12)", async () => {
    const first = await h.run({
      source: { type: "repo", source: repo, packages: ["abcde", "wget"] },
    });
    await h.db
      .delete(composeRpms)
      .where(and(eq(composeRpms.composeId, first.id), eq(composeRpms.name, "wget")));
    const second = await h.run({
      source: { type: "repo", source: repo, packages: ["abcde", "wget"] },
    });
    expect(second).toMatchObject({
      state: 4,
      reusedId: null,
      stateReason:
        "Error while generating compose: The following requested packages are not present in the generated compose: wget.",
    });
    const log = await readFile(join(h.dir(second.id), "pungi-stderr.log"), "utf8");
    expect(log).toContain(`pinning source ${repo} (its repomd.xml)`);
    expect(log).toContain("ERROR: The following requested packages are not present");
  });
});

test("a repository that changed after it was pinned is not opened: a retryable failure", async () => {
  const ctx = {
    config: h.config,
    cache: h.newWorker().cache,
    signal: new AbortController().signal,
    log: () => {},
  };
  const row = await h.row((await h.create(body)).id);
  const pinned = await repoSource.resolve(row, ctx);
  // The same pins, read back from storage (no bytes kept): still the same repo, it opens.
  const stored = JSON.parse(JSON.stringify(pinned)) as typeof pinned;
  expect((await repoSource.open(stored, ctx)).repos).toHaveLength(1);
  await moveOn(repo);
  const err = await repoSource.open(stored, ctx).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ComposeError);
  expect(err).toMatchObject({
    retryable: true,
    message: `${repo} changed while the compose was being made; trying again`,
  });
});

describe("a compose being built", () => {
  let srv: Awaited<ReturnType<typeof repoServer>>;
  beforeEach(async () => {
    srv = await repoServer(repo);
    h = await composeHarness({ ODCS_ALLOWED_REPO_URLS: srv.url });
    body = { source: { type: "repo", source: srv.url, packages: ["abcde"] } };
    return () => srv.close();
  });

  /** The original, held while reading its primary.xml (past the reuse step), and a follower. */
  async function originalAndFollower() {
    srv.hold(/primary/);
    const original = await h.create(body);
    const builder = h.newWorker("builder");
    expect(await builder.fill()).toBe(1);
    await waitFor(() => srv.held > 0 || undefined, { what: "the original to read primary.xml" });
    expect(await h.row(original.id)).toMatchObject({
      state: 1,
      stateReason: "Compose is generating",
      sourcePins: JSON.stringify({
        lookaside: [],
        repomd: { [srv.url]: await repomdPin(repo) },
        source: [srv.url],
      }),
    });
    // Less than a lease: the original's worker must keep its job.
    h.clock.advance(1000);
    const follower = await h.create(body);
    const other = h.newWorker("other");
    expect(await other.fill()).toBe(1);
    await other.idle();
    return { original, follower, builder };
  }

  test("is followed: the reuser stays generating, then the cascade makes it done", async () => {
    const { original, follower, builder } = await originalAndFollower();
    const waiting = await h.row(follower.id);
    expect(waiting).toMatchObject({
      state: 1,
      stateReason: "Compose thread started",
      reusedId: original.id,
    });
    // Both got the later expiry: the follower's.
    expect((await h.row(original.id)).timeToExpire).toBe(waiting.timeToExpire);
    expect((await h.jobOf(follower.id)).state).toBe("done");

    srv.release();
    await builder.idle();
    const o = await h.row(original.id);
    expect(o).toMatchObject({ state: 2, stateReason: "Compose is generated successfully" });
    expect(await h.row(follower.id)).toMatchObject({
      state: 2,
      stateReason: "Compose is generated successfully",
      pungiComposeId: o.pungiComposeId,
      kojiEvent: o.kojiEvent,
      timeDone: o.timeDone,
    });
    expect(await stateChanges(follower.id)).toEqual(["null->0", "0->1", "1->2"]);
    expect(nevras(await h.rpms(follower.id))).toEqual(nevras(await h.rpms(original.id)));
  });

  test("a follower fails with its original, with the same reason", async () => {
    const { original, follower, builder } = await originalAndFollower();
    srv.fail(/primary/, 404);
    srv.release();
    await builder.idle();
    const o = await h.row(original.id);
    expect(o.state).toBe(4);
    expect(o.stateReason).toMatch(/^Error while generating compose: .*HTTP 404/);
    expect(await h.row(follower.id)).toMatchObject({ state: 4, stateReason: o.stateReason });
    expect(await stateChanges(follower.id)).toEqual(["null->0", "0->1", "1->4"]);
  });
});

describe("a follower stranded behind a settled original (a crash between the two)", () => {
  test.each([
    ["done", 2, "Compose is generated successfully", 2],
    ["failed", 4, "Error while generating compose: boom", 4],
    ["done, then removed", 3, "Compose is generated successfully\nCompose is expired.", 2],
  ])("original %s: the sweep settles the follower (§10.4)", async (_n, state, reason, expected) => {
    const t = h.clock.now().getTime();
    const original = await givenCompose(h.db, {
      source: repo,
      state,
      stateReason: reason,
      timeDone: state === 4 ? null : t,
      pungiComposeId: "odcs-1-1-20261121.t.0",
    });
    const follower = await givenCompose(h.db, {
      source: repo,
      state: 1,
      stateReason: "Compose thread started",
      reusedId: original.id,
    });
    await requeueAndFailJobs(deps());
    expect(await h.row(follower.id)).toMatchObject({
      state: expected,
      stateReason: expected === 2 ? "Compose is generated successfully" : reason,
      pungiComposeId: "odcs-1-1-20261121.t.0",
    });
    expect(await stateChanges(follower.id)).toEqual([`1->${expected}`]);
    await requeueAndFailJobs(deps());
    expect(await stateChanges(follower.id)).toHaveLength(1);
  });
});

describe("removal and renewal", () => {
  test("removing the original keeps the files its reuser points at until the reuser expires", async () => {
    const first = await h.run(body);
    const second = await h.run(body);
    expect(second.reusedId).toBe(first.id);
    const repodata = join(h.dir(first.id), "compose/Temporary/x86_64/os/repodata/repomd.xml");

    // An admin removes the original: it goes, its files stay for the reuser.
    expect((await h.request(`/api/1/composes/${first.id}`, { method: "DELETE" })).status).toBe(202);
    h.clock.advance(1);
    expect(await expireComposes(deps())).toEqual([first.id]);
    expect((await h.row(first.id)).state).toBe(3);
    expect(existsSync(repodata)).toBe(true);
    expect(await removeOrphanDirs(deps())).toEqual([]);
    expect(existsSync(repodata)).toBe(true);
    expect((await h.get(second.id)).state_name).toBe("done");

    // The reuser expires: the last one pointing at the files takes them along.
    h.clock.advance(DAY_MS);
    expect(await expireComposes(deps())).toEqual([second.id]);
    expect(existsSync(h.dir(first.id))).toBe(false);
  });

  test("an orphan dir kept for a reuser goes once the reuser is removed", async () => {
    const first = await h.run(body);
    const second = await h.run(body);
    expect((await h.request(`/api/1/composes/${first.id}`, { method: "DELETE" })).status).toBe(202);
    h.clock.advance(1);
    await expireComposes(deps());
    expect(await removeOrphanDirs(deps())).toEqual([]);
    expect((await h.request(`/api/1/composes/${second.id}`, { method: "DELETE" })).status).toBe(
      202,
    );
    h.clock.advance(1);
    expect(await expireComposes(deps())).toEqual([second.id]);
    expect(existsSync(h.dir(first.id))).toBe(false);
  });

  test("renewing a done reuser extends it and its original", async () => {
    const first = await h.run(body);
    const second = await h.run(body);
    h.clock.advance(HOUR_MS);
    const until = h.clock.now().getTime() + 2 * DAY_MS;
    const renewed = await patch(second.id, { seconds_to_live: 2 * 86400 });
    expect(renewed).toMatchObject({ id: second.id, state_name: "done" });
    expect((await h.row(second.id)).timeToExpire).toBe(until);
    expect((await h.row(first.id)).timeToExpire).toBe(until);
  });

  test("renewing a removed reuser regenerates the original's NEVRAs after the repo moved on", async () => {
    const first = await h.run(body);
    const second = await h.run(body);
    const original = nevras(await h.rpms(first.id));
    expect(original).toContain("x86_64 wget-1.19.5.x86_64");
    h.clock.advance(DAY_MS + 1);
    expect((await expireComposes(deps())).sort()).toEqual([first.id, second.id]);
    await moveOn(repo);

    const copy = await patch(second.id);
    expect(copy.id).not.toBe(second.id);
    await drain();
    expect(await h.row(copy.id)).toMatchObject({
      state: 2,
      reusedId: null,
      regenerateOf: second.id,
    });
    expect(nevras(await h.rpms(copy.id))).toEqual(original);
    expect(existsSync(join(h.dir(copy.id), "compose"))).toBe(true);
  });
});
