/**
 * Crash safety with real processes: a worker killed with SIGKILL in the
 * middle of a compose (held on a test HTTP repo server) leaves nothing
 * visible; a new worker process takes the job over once the lease runs out
 * and the compose ends done. Throughout, the published odcs-<id> dir is
 * either absent or complete.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { composeHarness, LIBDNF_REPO, repoServer, startService } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const servers: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

test("kill -9 mid-compose, then a new worker: done, never half-published", async () => {
  const srv = await repoServer(LIBDNF_REPO);
  servers.push(srv);
  const h = await composeHarness({ ODCS_ALLOWED_REPO_URLS: srv.url });
  h.clock.set(new Date()); // the worker processes use the real clock
  const env = (id: string) => ({
    ODCS_DATABASE_URL: h.dbUrl,
    ODCS_TARGET_DIR: h.target,
    ODCS_TARGET_DIR_URL: "http://localhost/odcs",
    ODCS_ALLOWED_REPO_URLS: srv.url,
    ODCS_WORKER_ID: id,
    ODCS_WORKER_LEASE_MS: "1000",
    ODCS_WORKER_POLL_MS: "20",
  });

  srv.hold(/repomd\.xml$/, 1);
  const first = await startService({
    entry: "src/worker.ts",
    env: env("doomed"),
    readyText: "worker started",
  });
  const c = await h.create({ source: { type: "repo", source: srv.url, packages: ["abcde"] } });
  const final = h.dir(c.id);

  // Every observation of the published dir: absent, or complete.
  const seen: string[] = [];
  let observing = true;
  const observer = (async () => {
    while (observing) {
      if (existsSync(final)) {
        const complete = [
          "compose/Temporary/x86_64/os/repodata/repomd.xml",
          `compose/Temporary/odcs-${c.id}.repo`,
          "compose/metadata/rpms.json",
          "pungi-stderr.log",
        ].every((f) => existsSync(join(final, f)));
        seen.push(complete ? "complete" : "PARTIAL");
      } else seen.push("absent");
      await new Promise((r) => setTimeout(r, 2));
    }
  })();

  await waitFor(() => srv.held === 1 || undefined, { what: "the first worker to fetch repomd" });
  expect(await h.get(c.id)).toMatchObject({ state_name: "generating" });
  expect(await h.jobOf(c.id)).toMatchObject({ state: "running", lockedBy: "doomed", attempts: 1 });
  await first.kill();

  const second = await startService({
    entry: "src/worker.ts",
    env: env("rescuer"),
    readyText: "worker started",
  });
  try {
    await waitFor(async () => (await h.row(c.id)).state === 2 || undefined, {
      timeoutMs: 20_000,
      intervalMs: 20,
      what: `compose ${c.id} done after the crash`,
    });
  } finally {
    observing = false;
    await observer;
    srv.release();
    expect(await second.stop()).toBe(0);
  }
  expect(await h.get(c.id)).toMatchObject({
    state_name: "done",
    state_reason: "Compose is generated successfully",
  });
  expect(await h.jobOf(c.id)).toMatchObject({ state: "done", attempts: 2 });
  const log = await readFile(join(final, "pungi-stderr.log"), "utf8");
  expect(log).toMatch(/attempt 2 on worker rescuer/);
  expect(log).not.toMatch(/doomed/);
  expect(seen).not.toContain("PARTIAL");
  expect(seen).toContain("absent");
  expect(seen.at(-1)).toBe("complete");
  expect(await readdir(join(h.target, ".staging"))).toEqual([]);
  expect((await h.rpms(c.id)).map((r) => r.name).sort()).toEqual(["abcde", "flac", "wget"]);
});
