/**
 * The split deployment as an operator starts it: `odcs-server` and
 * `odcs-worker` as separate OS processes on one database file and one
 * compose dir, launched through the bins (`node bin/odcs-*.js`, as npm's
 * bin links run them) and through `npm run server` / `npm run worker`. The
 * worker process generates, the server process serves the files.
 */
import { symlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import {
  type ComposeJson,
  LIBDNF_REPO,
  ROOT,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";

async function composeThroughSplitProcesses(server: ServiceProcess, workerId: string) {
  const res = await fetch(`${server.url}/api/1/composes/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } }),
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  expect(created.state_name).toBe("wait");
  const waited = await fetch(
    `${server.url}/api/1/composes/${created.id}/wait?state=done&timeout=30`,
  );
  const done = (await waited.json()) as ComposeJson;
  expect(done).toMatchObject({ id: created.id, state_name: "done" });

  // Served by the server process, from the files the worker process wrote.
  const repofile = await fetch(done.result_repofile);
  expect(repofile.status).toBe(200);
  expect(await repofile.text()).toContain(`baseurl=${server.url}/composes/odcs-${created.id}/`);
  const rpm = await fetch(`${done.result_repo}/x86_64/os/Packages/a/abcde-2.9.2-1.fc29.noarch.rpm`);
  expect(rpm.status).toBe(200);
  expect(Buffer.from(await rpm.arrayBuffer()).subarray(0, 4)).toEqual(
    Buffer.from([0xed, 0xab, 0xee, 0xdb]),
  );
  const log = await readFile(
    join(server.targetDir, `odcs-${created.id}`, "pungi-stderr.log"),
    "utf8",
  );
  expect(log).toMatch(new RegExp(`attempt 1 on worker ${workerId}\\n`));
}

/** Bin links as `npm install` makes them: symlinks named without `.js`, in another dir. */
const binDir = tempDir("odcs-bin-");
for (const name of ["odcs-server", "odcs-worker"])
  symlinkSync(join(ROOT, "bin", `${name}.js`), join(binDir, name));

test.each([
  [
    "npm-style bin links (odcs-server, odcs-worker symlinked elsewhere)",
    [join(binDir, "odcs-server")],
    [join(binDir, "odcs-worker")],
    0,
  ],
  [
    "the bins (node bin/odcs-server.js, node bin/odcs-worker.js)",
    ["node", "bin/odcs-server.js"],
    ["node", "bin/odcs-worker.js"],
    0,
  ],
  [
    "npm run server, npm run worker",
    ["npm", "run", "--silent", "server"],
    ["npm", "run", "--silent", "worker"],
    // npm itself dies of the group's SIGTERM (as on Ctrl-C in a terminal);
    // the service under it stops cleanly, which its "stopped" line shows.
    null,
  ],
])(
  "%s: two processes on one database, a compose goes wait → done, the server serves it",
  async (_, serverCmd, workerCmd, exitCode) => {
    const dataDir = tempDir("odcs-split-");
    const server = await startService({ command: serverCmd, dataDir });
    const worker = await startService({
      command: workerCmd,
      dataDir,
      http: false,
      readyText: "worker started",
      // The worker writes the .repo files: they must point at the server that publishes them.
      env: { ODCS_WORKER_ID: "split-worker", ODCS_TARGET_DIR_URL: `${server.url}/composes` },
    });
    try {
      // The server has no worker of its own: nothing it runs generates.
      expect(server.output()).not.toContain("worker started");
      await composeThroughSplitProcesses(server, "split-worker");
    } finally {
      const codes = [await worker.stop(), await server.stop()];
      expect(codes, `${worker.output()}\n${server.output()}`).toEqual([exitCode, exitCode]);
    }
    for (const p of [server, worker]) {
      expect(p.output()).toContain('"msg":"stopped"');
      expect(p.output()).not.toMatch(/"level":"(warn|error)"/);
    }
  },
);
