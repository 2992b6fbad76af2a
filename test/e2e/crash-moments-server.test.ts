/**
 * Kills at moments of our choosing, server side, with the real single-host
 * process (src/main.ts: API, sweep and a worker): a create stopped just
 * before and just after its commit (crash points on the database writes),
 * an upload cut off mid-body, an SSE stream open at the kill, the sweep
 * stopped after marking an expired compose removed and while deleting its
 * tree. Each process is killed with SIGKILL and a new one started on the
 * same data dir; then every compose is settled with its events, trees are
 * exactly their compose_rpms or gone, and nothing is left in .staging,
 * .removing or the upload dir that no row accounts for.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import type { CrashPoint } from "../../src/crash-points.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { stateProblems, stoppedAt } from "../helpers/crash-invariants.ts";
import { tempDir } from "../helpers/db.ts";
import { leftoverProblems, publishedTreeProblems } from "../helpers/published-tree.ts";
import { LIBDNF_REPO, type ServiceProcess, startService } from "../helpers/service.ts";
import { openStream } from "../helpers/sse-client.ts";
import { waitFor } from "../helpers/wait.ts";

const procs: ServiceProcess[] = [];
const closers: (() => void)[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill();
  for (const c of closers) c();
});

const REQUEST = {
  source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
  flags: ["no_deps"],
};
const RPM = join(LIBDNF_REPO, "x86_64/wget-1.19.5-5.fc29.x86_64.rpm");

/** main.ts on `dataDir`, its sweep every second; `crashAt` arms a crash point. */
async function start(dataDir: string, crashAt?: CrashPoint, env: Record<string, string> = {}) {
  const p = await startService({
    entry: "src/main.ts",
    dataDir,
    timeoutMs: 60_000,
    env: {
      ODCS_CACHE_DIR: join(dataDir, "cache"),
      ODCS_SWEEP_CRON: "* * * * * *",
      ODCS_WORKER_LEASE_MS: "1000",
      ...(crashAt ? { ODCS_TEST_CRASH_AT: crashAt } : {}),
      ...env,
    },
  });
  procs.push(p);
  return p;
}

function openDb(dataDir: string): Db {
  const client = createClient({ url: `file:${join(dataDir, "odcs.db")}` });
  closers.push(() => client.close());
  return createDb(client);
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/1/composes/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

async function compose(url: string, id: number) {
  const res = await fetch(`${url}/api/1/composes/${id}`);
  return (await res.json()) as { state_name: string; state_reason: string };
}

async function settledAll(db: Db, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await stateProblems(db)).length === 0 || undefined, {
    timeoutMs,
    intervalMs: 50,
    what: "every compose settled with its events",
  }).catch(() => undefined);
  expect(await stateProblems(db)).toEqual([]);
}

async function noLeftovers(targetDir: string): Promise<void> {
  await waitFor(async () => (await leftoverProblems(targetDir)).length === 0 || undefined, {
    what: "no leftovers",
  }).catch(() => undefined);
  expect(await leftoverProblems(targetDir)).toEqual([]);
}

test("a create killed before its commit leaves nothing; one killed after it is generated", async () => {
  const dataDir = tempDir("odcs-crash-post-");
  const db = openDb(dataDir);
  const before = await start(dataDir, "post:before-commit");
  const lost = post(before.url, REQUEST).then(
    (r) => r.status,
    () => "no answer",
  );
  await stoppedAt(before, "post:before-commit");
  await before.kill();
  expect(await lost).toBe("no answer");
  expect(await db.select().from(composes)).toEqual([]);
  expect(await db.select().from(jobs)).toEqual([]);
  expect(await db.select().from(events)).toEqual([]);

  const after = await start(dataDir, "post:after-commit");
  const unanswered = post(after.url, REQUEST).then(
    (r) => r.status,
    () => "no answer",
  );
  await stoppedAt(after, "post:after-commit");
  // Committed whole: the compose, its job and its event, though the client heard nothing.
  // The create runs on the write thread: the worker on the main thread may have claimed
  // the job between the commit and the stop (then it is generating, with that event too).
  const [row, ...more] = await db.select({ id: composes.id, state: composes.state }).from(composes);
  expect(more).toEqual([]);
  expect(row?.id).toBe(1);
  const claimed = row?.state === 1;
  expect((await db.select().from(jobs)).map((j) => j.state)).toEqual([
    claimed ? "running" : "queued",
  ]);
  expect((await db.select().from(events)).map((e) => e.toState)).toEqual(claimed ? [0, 1] : [0]);
  await after.kill();
  expect(await unanswered).toBe("no answer");

  const fresh = await start(dataDir);
  await settledAll(db);
  expect(await compose(fresh.url, 1)).toMatchObject({ state_name: "done" });
  expect(await publishedTreeProblems(db, fresh.targetDir)).toEqual([]);
  await noLeftovers(fresh.targetDir);
  expect(await fresh.stop()).toBe(0);
}, 120_000);

test("killed mid-upload and mid-SSE stream: the upload dir is swept, the stream resumes without a gap", async () => {
  const dataDir = tempDir("odcs-crash-upload-");
  const db = openDb(dataDir);
  const uploads = join(dataDir, "uploads");
  const first = await start(dataDir);
  const stream = await openStream(`${first.url}/api/1/events/?last_event_id=0`);
  const c1 = (await (await post(first.url, REQUEST)).json()) as { id: number };
  // wait → generating → done, all three told before the kill.
  await waitFor(() => stream.events.length >= 3 || undefined, {
    timeoutMs: 30_000,
    what: "the stream to tell compose 1 is done",
  });
  // An upload whose body stops halfway through its first RPM.
  const rpm = await readFile(RPM);
  const boundary = "crashboundary";
  const req = request(`${first.url}/api/1/uploads/`, {
    method: "POST",
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
  });
  req.on("error", () => {});
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="wget.rpm"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  req.write(rpm.subarray(0, Math.floor(rpm.length / 2)));
  const partial = await waitFor(
    async () => {
      if (!existsSync(uploads)) return undefined;
      for (const d of await readdir(uploads))
        if ((await readdir(join(uploads, d))).some((f) => f.startsWith(".part-"))) return d;
      return undefined;
    },
    { what: "the upload's part file" },
  );
  const seen = stream.events.map((e) => Number(e.id));
  await first.kill();
  req.destroy();
  await waitFor(() => stream.ended || undefined, { what: "the stream to end at the kill" });

  // The next server sweeps the upload no row records, once untouched for 1 s.
  const second = await start(dataDir, undefined, { ODCS_UPLOAD_ABANDONED_SECONDS: "1" });
  expect(existsSync(join(uploads, partial))).toBe(true);
  const last = seen.at(-1) ?? 0;
  const resumed = await openStream(`${second.url}/api/1/events/`, {
    "Last-Event-ID": String(last),
  });
  const c2 = (await (await post(second.url, REQUEST)).json()) as { id: number };
  await settledAll(db);
  const all = (await db.select({ id: events.id }).from(events)).map((e) => e.id);
  await waitFor(() => resumed.events.length + seen.length >= all.length || undefined, {
    what: "the resumed stream to catch up",
  }).catch(() => undefined);
  // Every event exactly once across the kill, in order.
  expect([...seen, ...resumed.events.map((e) => Number(e.id))]).toEqual(all);
  resumed.close();
  expect(c2.id).toBe(c1.id + 1);
  await waitFor(() => !existsSync(join(uploads, partial)) || undefined, {
    timeoutMs: 15_000,
    what: "the abandoned upload dir to be swept",
  });
  // A finished upload has its row and stays.
  const fd = new FormData();
  fd.append("file", new Blob([new Uint8Array(rpm)]), "wget.rpm");
  const up = await fetch(`${second.url}/api/1/uploads/`, { method: "POST", body: fd });
  expect(up.status).toBe(201);
  const { id: uploadId } = (await up.json()) as { id: string };
  expect(await readdir(uploads)).toEqual([uploadId]);
  expect(await publishedTreeProblems(db, second.targetDir)).toEqual([]);
  await noLeftovers(second.targetDir);
  expect(await second.stop()).toBe(0);
  expect(await readdir(uploads)).toEqual([uploadId]);
}, 120_000);

test("the sweep killed after marking an expired compose removed, then while deleting its tree", async () => {
  const dataDir = tempDir("odcs-crash-sweep-");
  const db = openDb(dataDir);
  const marking = await start(dataDir, "sweep:marked-removed");
  const { id } = (await (await post(marking.url, { ...REQUEST, seconds_to_live: 1 })).json()) as {
    id: number;
  };
  const dir = join(marking.targetDir, `odcs-${id}`);
  await stoppedAt(marking, "sweep:marked-removed", 30_000);
  // Removed in the database, every file still there.
  expect((await db.select({ state: composes.state }).from(composes))[0]?.state).toBe(3);
  expect(existsSync(join(dir, "compose/Temporary/x86_64/os/repodata/repomd.xml"))).toBe(true);
  await marking.kill();

  // The next sweep finds the orphan tree and stops while deleting it: no longer served.
  const deleting = await start(dataDir, "sweep:removing");
  await stoppedAt(deleting, "sweep:removing");
  expect(existsSync(dir)).toBe(false);
  const trash = await readdir(join(deleting.targetDir, ".removing"));
  expect(trash).toHaveLength(1);
  expect(trash[0]).toMatch(new RegExp(`^odcs-${id}-`));
  await deleting.kill();

  const fresh = await start(dataDir);
  await settledAll(db);
  expect(await compose(fresh.url, id)).toMatchObject({ state_name: "removed" });
  await noLeftovers(fresh.targetDir);
  expect(existsSync(dir)).toBe(false);
  expect(await publishedTreeProblems(db, fresh.targetDir)).toEqual([]);
  expect(await fresh.stop()).toBe(0);
}, 120_000);
