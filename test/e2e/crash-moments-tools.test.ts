/**
 * Kills at moments of our choosing, worker side, caught from outside the
 * worker process: a download held by the test's HTTP repo (two of three
 * RPMs fetched), createrepo_c or xorriso held by a shim on PATH (the
 * orphaned tool then finishes into the dead attempt's tree), and two crash
 * points in special cases — after the publish rename on the job's last
 * attempt, and during the regeneration of a removed compose. After the
 * kill a new worker process takes over; the same checks as
 * crash-moments-worker.test.ts follow.
 */
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { composeRpms } from "../../src/db/schema.ts";
import { expireComposes } from "../../src/sweep/expire.ts";
import { procState, stoppedAt } from "../helpers/crash-invariants.ts";
import {
  checkRecovered,
  closeAll,
  closeLater,
  published,
  REQUEST,
  settled,
  setup,
} from "../helpers/crash-worker.ts";
import { tempDir } from "../helpers/db.ts";
import { DAY_MS } from "../helpers/given.ts";
import { LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

afterAll(closeAll);

describe("a worker killed mid-download, in a tool, on its last attempt, regenerating", () => {
  test("mid-download: two RPMs fetched over HTTP, the third held", async () => {
    const srv = await repoServer(LIBDNF_REPO);
    closeLater(() => srv.close());
    const { h, worker, procs } = await setup({ ODCS_ALLOWED_REPO_URLS: srv.url });
    srv.hold(/\.rpm$/, 1, 2);
    const doomed = await worker("doomed");
    const { id } = await h.create({ source: { ...REQUEST.source, source: srv.url } });
    await waitFor(() => srv.held === 1 || undefined, { what: "the third RPM to be asked for" });
    expect(srv.requests.filter((p) => p.endsWith(".rpm"))).toHaveLength(3);
    expect(published(h, id)).toBe("absent");
    await doomed.kill();
    srv.release();
    await worker("rescuer");
    await settled(h, id);
    expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
    await checkRecovered(h, procs, id, "done");
  }, 120_000);

  for (const tool of ["createrepo_c", "xorriso"] as const) {
    test(`during ${tool}: the tool held by a shim, the worker killed, the orphaned tool let go`, async () => {
      const shims = tempDir("odcs-shim-");
      const real = tool === "createrepo_c" ? "/usr/bin/createrepo_c" : "/usr/bin/xorriso";
      await writeFile(
        join(shims, tool),
        `#!/bin/sh\necho $$ > "${shims}/pid"\nwhile [ ! -e "${shims}/release" ]; do sleep 0.02; done\nexec ${real} "$@"\n`,
      );
      await chmod(join(shims, tool), 0o755);
      const config =
        tool === "createrepo_c" ? { ODCS_REPODATA_WRITER: "createrepo_c" } : ({} as const);
      const { h, worker, procs } = await setup(config);
      const doomed = await worker("doomed", { PATH: `${shims}:${process.env.PATH ?? ""}` });
      const { id } = await h.create({
        ...REQUEST,
        ...(tool === "xorriso" ? { results: ["iso"] } : {}),
      });
      const pid = await waitFor(
        () => existsSync(join(shims, "pid")) && readPid(join(shims, "pid")),
        { what: `${tool} to be started` },
      );
      expect(published(h, id)).toBe("absent");
      await doomed.kill();
      // The tool outlives its worker and writes into the dead attempt's staging tree.
      await mkdir(join(shims, "release"));
      await waitFor(() => !["R", "S", "D"].includes(procState(pid) ?? "gone") || undefined, {
        timeoutMs: 20_000,
        what: `the orphaned ${tool} to end`,
      });
      await worker("rescuer");
      await settled(h, id);
      expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
      if (tool === "xorriso") {
        const iso = await readdir(join(h.dir(id), "compose/Temporary/x86_64/iso"));
        expect(iso.filter((f) => f.endsWith(".iso"))).toHaveLength(1);
      }
      await checkRecovered(h, procs, id, "done");
    }, 120_000);
  }

  test("after the publish rename on the last attempt: failed, its log only, no package set", async () => {
    const { h, worker, procs } = await setup({ ODCS_JOB_MAX_ATTEMPTS: 1 });
    const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: "generate:published" });
    const { id } = await h.create(REQUEST);
    await stoppedAt(doomed, "generate:published");
    expect(published(h, id)).toBe("complete");
    await doomed.kill();
    await worker("rescuer");
    await settled(h, id);
    expect((await h.row(id)).stateReason).toMatch(/gave up after 1 attempts/);
    expect(await h.db.select().from(composeRpms)).toEqual([]);
    // The rescuer takes the tree away right after the failure is committed.
    await waitFor(
      async () => (await readdir(h.dir(id))).join() === "pungi-stderr.log" || undefined,
      {
        what: "the failed compose's tree to go, its log kept",
      },
    );
    await checkRecovered(h, procs, id, "failed");
  }, 120_000);

  test("regeneration of a removed compose, killed after its publish rename", async () => {
    const { h, worker, procs } = await setup();
    const first = await h.run(REQUEST);
    expect(first.state).toBe(2);
    const original = (await h.rpms(first.id)).map((r) => `${r.name}-${r.version}-${r.release}`);
    const deps = { db: h.db, now: () => h.clock.now(), log: silentLogger, targetDir: h.target };
    h.clock.set(new Date(Date.now() + 2 * DAY_MS));
    expect(await expireComposes(deps)).toEqual([first.id]);
    h.clock.set(new Date());
    const res = await h.request(`/api/1/composes/${first.id}`, { method: "PATCH", body: "{}" });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    expect(id).not.toBe(first.id);
    const doomed = await worker("doomed", { ODCS_TEST_CRASH_AT: "generate:published" });
    await stoppedAt(doomed, "generate:published");
    expect(published(h, id)).toBe("complete");
    await doomed.kill();
    await worker("rescuer");
    await settled(h, id);
    expect((await h.rpms(id)).map((r) => `${r.name}-${r.version}-${r.release}`)).toEqual(original);
    expect(await h.jobOf(id)).toMatchObject({ state: "done", attempts: 2 });
    await checkRecovered(h, procs, id, "done");
  }, 120_000);
});

function readPid(path: string): number | undefined {
  const text = readFileSync(path, "utf8").trim();
  return text === "" ? undefined : Number(text);
}
