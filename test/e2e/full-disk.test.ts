/**
 * Disks filling while composes run, with the real processes (issue 18, "a
 * disk filled while composes run"): a server and a separate worker (and
 * `npm start`'s single process), several composes at once — a local repo,
 * an HTTP repo, a Koji tag, an ISO — and a small real tmpfs filled at a
 * chosen moment (an HTTP download of a compose held until the disk is
 * full), then freed. Each directory on its own disk, then all on one.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import Database from "libsql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSY_TIMEOUT_MS, createDb, type Db } from "../../src/db/client.ts";
import { composes, jobs } from "../../src/db/schema.ts";
import { doubleCompletions, serviceProblems } from "../helpers/compose-checks.ts";
import { tempDir } from "../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import {
  type ComposeJson,
  LIBDNF_REPO,
  postCompose,
  repoServer,
  startService,
} from "../helpers/service.ts";
import { mountTmpfs, type SmallDisk } from "../helpers/tmpfs.ts";
import { waitFor } from "../helpers/wait.ts";

function kojiModel(): KojiModel {
  const model = new KojiModel({ topdir: tempDir("disk-koji-") });
  model.createTag("disk-tag", { arches: ["x86_64"] });
  const rpm = (f: string) => join(LIBDNF_REPO, "x86_64", f);
  for (const n of ["flac", "flac-libs", "lame", "lame-libs"]) model.addPackage("disk-tag", n);
  model.importBuilds([
    { rpms: [rpm("flac-1.3.2-8.fc29.x86_64.rpm"), rpm("flac-libs-1.3.2-8.fc29.x86_64.rpm")] },
    { rpms: [rpm("lame-3.100-4.fc29.x86_64.rpm"), rpm("lame-libs-3.100-4.fc29.x86_64.rpm")] },
  ]);
  for (const nvr of ["flac-1.3.2-8.fc29", "lame-3.100-4.fc29"]) model.tagBuild("disk-tag", nvr);
  return model;
}

const disks: SmallDisk[] = [];
const smallDisk = (bytes: number) => {
  const d = mountTmpfs(bytes);
  disks.push(d);
  return d;
};
let hub: KojiHub;
let http: Awaited<ReturnType<typeof repoServer>>;
beforeAll(async () => {
  hub = await startKojiHub(kojiModel());
  http = await repoServer(LIBDNF_REPO);
});
afterAll(async () => {
  for (const d of disks) d.unmount();
  await Promise.all([hub?.close(), http?.close()]);
});

const flags = ["no_deps", "no_reuse"];
const bodies = () => ({
  local: { source: { type: "repo", source: LIBDNF_REPO, packages: ["flac"] }, flags },
  http: { source: { type: "repo", source: http.url, packages: ["lame", "lame-libs"] }, flags },
  koji: { source: { type: "tag", source: "disk-tag", packages: ["flac", "lame"] }, flags },
  iso: {
    source: { type: "repo", source: LIBDNF_REPO, packages: ["flac", "flac-libs"] },
    flags,
    results: ["iso"],
  },
});

interface Dirs {
  data: string;
  target: string;
  cache: string;
  uploads: string;
  db: string;
}

function env(d: Dirs, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ODCS_DATABASE_URL: `file:${join(d.db, "odcs.db")}`,
    ODCS_TARGET_DIR: d.target,
    ODCS_CACHE_DIR: d.cache,
    ODCS_UPLOAD_DIR: d.uploads,
    ODCS_ALLOWED_REPO_URLS: http.url,
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ODCS_KOJI_TOPURL: hub.topurl,
    ODCS_WORKER_CONCURRENCY: "4",
    ODCS_WORKER_LEASE_MS: "3000",
    ODCS_SWEEP_CRON: "* * * * * *",
    ODCS_JOB_MAX_ATTEMPTS: "1",
    ODCS_WORKER_GRACE_MS: "2000",
    ...extra,
  };
}

/** A server and a worker process over `d`. */
async function startPair(d: Dirs, extra: Record<string, string> = {}) {
  const e = env(d, extra);
  const server = await startService({ entry: "src/server.ts", dataDir: d.data, env: e });
  const worker = await startService({
    entry: "src/worker.ts",
    dataDir: d.data,
    env: e,
    readyText: "worker started",
  });
  return { server, worker, procs: [server, worker] };
}

const errorLines = (out: string) => out.split("\n").filter((l) => l.includes('"level":"error"'));

const openDb = (d: Dirs): Db =>
  createDb(createClient({ url: `file:${join(d.db, "odcs.db")}`, timeout: BUSY_TIMEOUT_MS }));

async function getJson(url: string): Promise<ComposeJson> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as ComposeJson;
}

async function settled(base: string, ids: number[], timeoutMs = 60_000): Promise<ComposeJson[]> {
  return waitFor(
    async () => {
      const all = await Promise.all(ids.map((id) => getJson(`${base}/api/1/composes/${id}`)));
      return all.every((c) => c.state_name === "done" || c.state_name === "failed") && all;
    },
    { timeoutMs, intervalMs: 100, what: `composes ${ids.join(", ")} to settle` },
  );
}

const dirsOn = (disk: SmallDisk | undefined, which: (keyof Dirs)[]): Dirs => {
  const data = tempDir("odcs-disk-");
  const d: Dirs = {
    data,
    target: join(data, "composes"),
    cache: join(data, "cache"),
    uploads: join(data, "uploads"),
    db: data,
  };
  for (const k of which) {
    if (!disk) continue;
    d[k] = k === "db" ? join(disk.dir, "db") : join(disk.dir, k);
    mkdirSync(d[k], { recursive: true });
  }
  return d;
};

describe("ODCS_TARGET_DIR fills while composes run", () => {
  it("fails the composes that ran out of space naming it, publishes nothing partial, recovers", {
    timeout: 90_000,
  }, async () => {
    const disk = smallDisk(24 * 1024 * 1024);
    const d = dirsOn(disk, ["target"]);
    const { server, procs } = await startPair(d);
    const db = openDb(d);
    try {
      const b = bodies();
      http.hold(/\.rpm$/);
      const heldAt = http.held;
      const c = {
        http: await postCompose(server.url, b.http),
        local: await postCompose(server.url, b.local),
        koji: await postCompose(server.url, b.koji),
        iso: await postCompose(server.url, b.iso),
      };
      // The chosen moment: the HTTP compose is generating, its staging tree
      // made and a download in flight.
      await waitFor(() => http.held > heldAt, { timeoutMs: 30_000, what: "an RPM download" });
      disk.fill();
      http.release();
      const ids = Object.values(c).map((x) => x.id);
      const end = await settled(server.url, ids);
      console.log(end.map((x) => `${x.id} ${x.state_name} ${x.state_reason}`));
      const httpEnd = end.find((x) => x.id === c.http.id);
      expect(httpEnd?.state_name).toBe("failed");
      for (const x of end)
        if (x.state_name === "failed") {
          expect(x.state_reason).toMatch(/no space left on device/);
          expect(x.state_reason).toContain("ODCS_TARGET_DIR");
        }
      expect(await serviceProblems(db, d.target)).toEqual([]);
      disk.free();
      const again = await Promise.all(
        Object.values(b).map((body) => postCompose(server.url, body)),
      );
      const after = await settled(
        server.url,
        again.map((x) => x.id),
      );
      expect(after.map((x) => x.state_name)).toEqual(["done", "done", "done", "done"]);
      expect(await serviceProblems(db, d.target)).toEqual([]);
      expect(doubleCompletions(procs.map((p) => p.output()))).toEqual([]);
      for (const p of procs) expect(errorLines(p.output())).toEqual([]);
    } finally {
      http.release();
      disk.free();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});

describe("the database's disk fills while composes run", () => {
  it("worker writes wait for space, the server answers reads and 503s writes, all recover", {
    timeout: 90_000,
  }, async () => {
    const disk = smallDisk(16 * 1024 * 1024);
    const d = dirsOn(disk, ["db"]);
    const { server, worker, procs } = await startPair(d, { ODCS_JOB_MAX_ATTEMPTS: "3" });
    const db = openDb(d);
    try {
      const b = bodies();
      http.hold(/\.rpm$/);
      const heldAt = http.held;
      const c = await Promise.all(Object.values(b).map((body) => postCompose(server.url, body)));
      await waitFor(() => http.held > heldAt, { timeoutMs: 30_000, what: "an RPM download" });
      // A reader of the test's own pins the WAL: no checkpoint can then let writes reuse
      // its room, so every write needs new space (without it, whether a write got through
      // depended on where the last checkpoint had left the WAL). A reader pins it only if
      // some of its frames are not checkpointed yet (else it reads the database file alone
      // and the WAL is started over under it): both processes checkpoint every 250 ms, and
      // in a loaded CI run the pin came right after one, the worker's writes reused the WAL
      // and never met the full disk. So it writes a frame and reads at once, then the disk fills.
      const pin = new Database(join(d.db, "odcs.db"));
      pin.exec("PRAGMA user_version = 1");
      pin.exec("BEGIN");
      pin.prepare("SELECT count(*) FROM composes").get();
      disk.fill();
      const filledAt = worker.output().length;
      // Reads answer; writes are refused with 503 until space returns.
      for (const x of c)
        expect((await fetch(`${server.url}/api/1/composes/${x.id}`)).status).toBe(200);
      const refused = await waitFor(
        async () => {
          const res = await fetch(`${server.url}/api/1/composes/`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ ...b.local, label: "x".repeat(4000) }),
          });
          return res.status === 503 ? res : false;
        },
        { timeoutMs: 20_000, intervalMs: 50, what: "a 503" },
      );
      expect(refused.headers.get("retry-after")).toBe("5");
      // The worker meets the full database. The held download keeps its job running: its
      // heartbeats fill what room the WAL had left until one is refused (released earlier,
      // the composes could all finish in it); a compose finishing meanwhile waits to record
      // its outcome. (Under load the other composes were all done before the fill: then
      // only the heartbeats meet it. CI once waited 30 s here for an outcome.)
      await waitFor(
        () => /heartbeat failed|database cannot take a write/.test(worker.output().slice(filledAt)),
        { timeoutMs: 30_000, what: "the worker to meet the full database" },
      );
      http.release();
      // The held compose's outcome (or its release) now waits for the database, past a
      // lease. (Writes may get through now and then: a checkpoint lets the WAL be reused
      // without growing, so not every lease need run out.)
      await waitFor(() => worker.output().includes("database cannot take a write"), {
        timeoutMs: 30_000,
        what: "the worker to wait for the database",
      });
      const waiting = Date.now();
      await waitFor(
        async () => {
          const js = await db.select().from(jobs);
          return (
            js.some((j) => j.state === "running" && (j.leaseUntil ?? 0) < Date.now()) ||
            Date.now() - waiting > 2 * 3000
          );
        },
        { timeoutMs: 20_000, what: "a lease to run out" },
      );
      pin.exec("COMMIT");
      pin.close();
      disk.free();
      const end = await settled(
        server.url,
        c.map((x) => x.id),
      );
      console.log(end.map((x) => `${x.id} ${x.state_name} ${x.state_reason}`));
      if (end.some((x) => x.state_name !== "done"))
        console.log(
          [server, worker]
            .map((p) =>
              p
                .output()
                .split("\n")
                .filter((l) => !/heartbeat failed|request refused/.test(l))
                .join("\n"),
            )
            .join("\n----\n"),
        );
      expect(end.map((x) => x.state_name)).toEqual(["done", "done", "done", "done"]);
      // Each finished by the worker that ran it, or (when the server's sweep, which met
      // no refusal itself, requeued it first) run once more; never completed twice.
      // (Some of the POSTs made while it filled may have got through: only these four.)
      const js = (await db.select().from(jobs)).filter((j) => c.some((x) => x.id === j.composeId));
      expect(js.map((j) => j.state)).toEqual(c.map(() => "done"));
      for (const j of js) expect(j.attempts).toBeLessThanOrEqual(2);
      const all = (await db.select({ id: composes.id }).from(composes)).map((x) => x.id);
      expect((await settled(server.url, all)).map((x) => x.state_name)).toEqual(
        all.map(() => "done"),
      );
      expect(await serviceProblems(db, d.target)).toEqual([]);
      expect(doubleCompletions(procs.map((p) => p.output()))).toEqual([]);
      expect(worker.child.exitCode).toBe(null);
      expect(server.child.exitCode).toBe(null);
      const again = await postCompose(server.url, b.local);
      expect((await settled(server.url, [again.id]))[0]?.state_name).toBe("done");
    } finally {
      http.release();
      disk.free();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});

describe("ODCS_CACHE_DIR fills while composes run", () => {
  it("Koji composes go on without the cache (downloaded straight into the compose), and cache again once freed", {
    timeout: 90_000,
  }, async () => {
    const disk = smallDisk(8 * 1024 * 1024);
    const d = dirsOn(disk, ["cache"]);
    const { server, procs } = await startPair(d);
    try {
      disk.fill();
      const b = bodies();
      const full = await Promise.all([
        postCompose(server.url, b.koji),
        postCompose(server.url, b.http),
      ]);
      const end = await settled(
        server.url,
        full.map((x) => x.id),
      );
      console.log(end.map((x) => `${x.id} ${x.state_name} ${x.state_reason}`));
      if (end.some((x) => x.state_name !== "done"))
        console.log(procs.map((p) => p.output()).join("\n----\n"));
      expect(end.map((x) => x.state_name)).toEqual(["done", "done"]);
      const db = openDb(d);
      expect(await serviceProblems(db, d.target)).toEqual([]);
      disk.free();
      const again = await postCompose(server.url, b.koji);
      expect((await settled(server.url, [again.id]))[0]?.state_name).toBe("done");
      expect(readdirSync(d.cache)).toContain("koji-headers");
      for (const p of procs) expect(errorLines(p.output())).toEqual([]);
    } finally {
      disk.free();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});

describe("every directory and the database on one disk that fills (npm start)", () => {
  it("composes are retried and done once space returns; reads answer throughout; nothing partial or lost", {
    timeout: 90_000,
  }, async () => {
    const disk = smallDisk(32 * 1024 * 1024);
    const d = dirsOn(disk, ["target", "cache", "uploads", "db"]);
    const svc = await startService({
      dataDir: d.data,
      env: env(d, { ODCS_JOB_MAX_ATTEMPTS: "3" }),
    });
    const db = openDb(d);
    try {
      const b = bodies();
      http.hold(/\.rpm$/);
      const heldAt = http.held;
      const c = await Promise.all(Object.values(b).map((body) => postCompose(svc.url, body)));
      await waitFor(() => http.held > heldAt, { timeoutMs: 30_000, what: "an RPM download" });
      disk.fill();
      http.release();
      // The worker meets the full disk (a compose's files, then the database).
      await waitFor(() => /no space left on device|SQLITE_FULL|disk is full/.test(svc.output()), {
        timeoutMs: 30_000,
        what: "the worker to meet the full disk",
      });
      for (const x of c)
        expect((await fetch(`${svc.url}/api/1/composes/${x.id}`)).status).toBe(200);
      expect((await fetch(`${svc.url}/api/1/composes/?per_page=10`)).status).toBe(200);
      disk.free();
      const end = await settled(
        svc.url,
        c.map((x) => x.id),
      );
      console.log(end.map((x) => `${x.id} ${x.state_name} ${x.state_reason}`));
      expect(end.map((x) => x.state_name)).toEqual(["done", "done", "done", "done"]);
      // The held HTTP compose ran out of space and was retried; its error named the full disk.
      const [httpJob] = await db
        .select()
        .from(jobs)
        .where(eq(jobs.composeId, c[1]?.id ?? 0));
      expect(httpJob?.attempts).toBeGreaterThan(1);
      expect(httpJob?.lastError).toMatch(
        /^no space left on device \(the disk of ODCS_TARGET_DIR, ODCS_CACHE_DIR and ODCS_UPLOAD_DIR is full\)/,
      );
      expect(await serviceProblems(db, d.target)).toEqual([]);
      expect(doubleCompletions([svc.output()])).toEqual([]);
      expect(svc.child.exitCode).toBe(null);
      const again = await postCompose(svc.url, b.iso);
      expect((await settled(svc.url, [again.id]))[0]?.state_name).toBe("done");
    } finally {
      http.release();
      disk.free();
      await svc.stop();
    }
  });
});
