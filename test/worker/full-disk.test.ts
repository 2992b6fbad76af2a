/**
 * Issue 18 item 2, on a real full filesystem (a small tmpfs mounted here;
 * the tests run as root): a compose that runs out of space fails with a
 * reason that says so and leaves no partial tree, the API keeps answering,
 * and composes succeed once space is freed. The database on a full disk:
 * writes answer 503 with a clear message, nothing is half-written, and it
 * recovers when space returns.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { BUSY_TIMEOUT_MS, createDb } from "../../src/db/client.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";
import { noauthAuthenticator } from "../../src/domain/identity.ts";
import { fakeClock } from "../helpers/clock.ts";
import { MIGRATIONS } from "../helpers/db.ts";
import { countRows, odcsError } from "../helpers/given.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { testConfig } from "../helpers/test-app.ts";
import { mountTmpfs, type SmallDisk } from "../helpers/tmpfs.ts";

const disks: SmallDisk[] = [];
afterAll(() => {
  for (const d of disks) d.unmount();
});
const smallDisk = (bytes: number) => {
  const d = mountTmpfs(bytes);
  disks.push(d);
  return d;
};

// Copies, not hardlinks: the fixture is on another filesystem.
const BODY = {
  source: { type: "repo", source: LIBDNF_REPO, packages: ["flac"] },
  flags: ["no_deps", "no_reuse"],
};

describe("the compose target dir on a full disk", () => {
  let disk: SmallDisk;
  beforeAll(() => {
    disk = smallDisk(4 * 1024 * 1024);
  });

  it("fails the compose saying no space, leaves no tree, keeps answering, then works again", async () => {
    const target = join(disk.dir, "composes");
    const h = await composeHarness({ ODCS_TARGET_DIR: target, ODCS_JOB_MAX_ATTEMPTS: "1" });
    const dir = (id: number) => join(target, `odcs-${id}`);
    try {
      // One compose first, so the target dir and its .staging exist.
      const ok = await h.run(BODY);
      expect(ok.state).toBe(2);
      disk.fill();
      expect(disk.available()).toBe(0);

      const row = await h.run(BODY);
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(/no space left on device/i);
      expect(row.stateReason).toContain("ODCS_TARGET_DIR");
      // No partial tree: nothing of the compose is published, no staging left.
      expect(existsSync(join(dir(row.id), "compose"))).toBe(false);
      expect(readdirSync(dir(row.id))).toEqual(["pungi-stderr.log"]);
      expect(readdirSync(join(target, ".staging"))).toEqual([]);
      expect(await h.rpms(row.id)).toEqual([]);

      // The API answers meanwhile.
      expect((await h.request(`/api/1/composes/${row.id}`)).status).toBe(200);
      expect((await h.request("/api/1/composes/")).status).toBe(200);

      disk.free();
      const again = await h.run(BODY);
      expect(again.stateReason).toBe("Compose is generated successfully");
      expect((await h.rpms(again.id)).length).toBe(1);
      expect(
        existsSync(join(dir(again.id), "compose/Temporary/x86_64/os/repodata/repomd.xml")),
      ).toBe(true);
    } finally {
      disk.free();
      await h.stopAll();
    }
  });

  it("a disk that fills up is retried by the job, and succeeds once space is back", async () => {
    const target = join(disk.dir, "composes2");
    const h = await composeHarness({ ODCS_TARGET_DIR: target, ODCS_JOB_MAX_ATTEMPTS: "3" });
    try {
      expect((await h.run(BODY)).state).toBe(2);
      disk.fill();
      const c = await h.create(BODY);
      const w = h.newWorker();
      await w.fill();
      await w.idle();
      const job = await h.jobOf(c.id);
      expect(job.state).toBe("queued");
      expect(job.lastError).toMatch(/no space left on device/i);
      disk.free();
      h.clock.advance(job.runAt - h.clock.now().getTime());
      await w.fill();
      await w.idle();
      expect((await h.row(c.id)).state).toBe(2);
    } finally {
      disk.free();
      await h.stopAll();
    }
  });
});

describe("the database on a full disk", () => {
  it("answers writes with 503, writes nothing, keeps reading, and recovers", async () => {
    const disk = smallDisk(8 * 1024 * 1024);
    const url = `file:${join(disk.dir, "odcs.db")}`;
    const client = createClient({ url, timeout: BUSY_TIMEOUT_MS });
    await migrateDatabase(client, MIGRATIONS);
    const db = createDb(client);
    const app = createApp({
      db,
      clock: fakeClock(),
      config: testConfig({ ODCS_ALLOWED_REPO_ROOTS: "/srv" }),
      log: silentLogger,
      auth: noauthAuthenticator,
      version: "test",
    });
    const post = () =>
      app.request("/api/1/composes/", {
        method: "POST",
        body: JSON.stringify({
          source: { type: "repo", source: "/srv/repos/a" },
          label: "l".repeat(2000),
        }),
      });
    try {
      expect((await post()).status).toBe(200);
      disk.fill();
      // SQLite may still fit a few rows in pages it has; it runs out soon.
      let refused: Response | undefined;
      let accepted = 1;
      for (let i = 0; i < 500 && !refused; i++) {
        const res = await post();
        if (res.status === 200) accepted++;
        else refused = res;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.headers.get("retry-after")).toBe("5");
      expect(await refused?.json()).toEqual(
        odcsError(
          503,
          "Service unavailable: the database disk is full; nothing was changed, try again later",
        ),
      );
      // Nothing half-written: every compose has its job and its event.
      expect(await countRows(db)).toEqual({
        composes: accepted,
        jobs: accepted,
        events: accepted,
      });
      expect((await app.request("/api/1/composes/1")).status).toBe(200);
      expect((await app.request("/api/1/composes/")).status).toBe(200);

      disk.free();
      expect((await post()).status).toBe(200);
      expect(await countRows(db)).toEqual({
        composes: accepted + 1,
        jobs: accepted + 1,
        events: accepted + 1,
      });
    } finally {
      disk.free();
      client.close();
    }
  });
});
