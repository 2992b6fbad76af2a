/**
 * An aborted tool run (a cancelled or timed-out job) settles only once its
 * child process is gone: the worker clears the staging tree right after,
 * and a tool still writing there would leave files behind. The tool is a
 * script in createrepo_c's place (`bin`) that records its pid and blocks.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runCreaterepo } from "../../src/worker/tools/createrepo.ts";
import { tempDir } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("aborting runCreaterepo kills the tool and rejects only after it exited", async () => {
  const dir = tempDir("odcs-tool-");
  const pidFile = join(dir, "pid");
  const fifo = join(dir, "hold");
  execFileSync("mkfifo", [fifo]);
  const bin = join(dir, "createrepo_c");
  // Ignores SIGTERM, as a tool busy cleaning up might: only SIGKILL stops it at once.
  writeFileSync(bin, `#!/bin/sh\ntrap '' TERM\necho $$ > '${pidFile}'\nread _ < '${fifo}'\n`, {
    mode: 0o755,
  });
  const controller = new AbortController();
  const run = runCreaterepo(dir, { bin, signal: controller.signal });
  const settled = run.then(
    () => "resolved",
    (err: Error) => err.name,
  );
  const pid = await waitFor(
    () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) || undefined : undefined),
    { what: "the tool to start" },
  );
  expect(isAlive(pid)).toBe(true);
  controller.abort(new Error("canceled"));
  expect(await settled).toBe("AbortError");
  expect(isAlive(pid)).toBe(false);
});
