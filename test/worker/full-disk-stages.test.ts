/**
 * The compose target dir running out of space at every stage of a compose:
 * the disk filled to leave a chosen fraction of what one compose needs, so
 * that the space ends while RPMs are placed, while repodata (native or
 * createrepo_c) or compose metadata is written, while the ISO is made, or
 * around the publish. Whatever the stage, the compose either is done with
 * its whole tree or fails naming ODCS_TARGET_DIR with nothing but its log
 * published and no staging left; every state change has its event; and
 * with the space back the same compose is done.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceProblems } from "../helpers/compose-checks.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { mountTmpfs, type SmallDisk } from "../helpers/tmpfs.ts";

let disk: SmallDisk;
beforeAll(() => {
  disk = mountTmpfs(16 * 1024 * 1024);
});
afterAll(() => disk.unmount());

const REPO = {
  source: {
    type: "repo",
    source: LIBDNF_REPO,
    packages: ["flac", "flac-libs", "lame", "lame-libs"],
  },
  flags: ["no_deps", "no_reuse"],
};
const FRACTIONS = [0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995];

/** The compose's last step before its ERROR line (the log says what was being done). */
const lastStep = (log: string) =>
  (
    log
      .split("\n")
      .filter((l) => l !== "" && !l.includes("ERROR"))
      .at(-1) ?? ""
  )
    .replace(/^\S+ /, "")
    .replace(/\d+(\.\d+)? ?(ms|s|KiB|MiB|B)\b/g, "N");

describe.each([
  ["native", REPO],
  ["createrepo_c", REPO],
  ["native", { ...REPO, results: ["iso"] }],
])("repodata writer %s, %j: the target disk ends mid-compose", (writer, body) => {
  it("done whole, or failed naming ODCS_TARGET_DIR with its log only", {
    timeout: 90_000,
  }, async () => {
    const target = join(disk.dir, `composes-${Math.random().toString(36).slice(2)}`);
    const h = await composeHarness({
      ODCS_TARGET_DIR: target,
      ODCS_JOB_MAX_ATTEMPTS: "1",
      ODCS_REPODATA_WRITER: writer,
    });
    try {
      const before = disk.available();
      expect((await h.run(body)).state).toBe(2);
      const need = before - disk.available();
      expect(need).toBeGreaterThan(32 * 1024);
      const outcomes: string[] = [];
      const steps = new Set<string>();
      for (const f of FRACTIONS) {
        disk.fill(Math.floor(need * f));
        let row: Awaited<ReturnType<typeof h.run>>;
        try {
          row = await h.run(body);
        } finally {
          disk.free();
        }
        const dir = join(target, `odcs-${row.id}`);
        const step = lastStep(readFileSync(join(dir, "pungi-stderr.log"), "utf8"));
        outcomes.push(`${f}: ${row.state === 2 ? "done" : row.stateReason} [${step}]`);
        if (row.state === 4) {
          steps.add(step);
          expect(row.stateReason).toMatch(
            /^Error while generating compose: no space left on device \(the disk of ODCS_TARGET_DIR is full\)/i,
          );
          expect(readdirSync(dir)).toEqual(["pungi-stderr.log"]);
        } else expect(row.state).toBe(2);
        expect(existsSync(join(target, ".staging", `odcs-${row.id}`))).toBe(false);
      }
      const report = outcomes.join("\n");
      // The space ran out at several different steps, and never mattered once it was there.
      expect(outcomes.filter((o) => /: done \[/.test(o)).length, report).toBeLessThanOrEqual(4);
      expect(steps.size, report).toBeGreaterThanOrEqual(2);
      expect(await serviceProblems(h.db, target)).toEqual([]);
      expect((await h.run(body)).state).toBe(2);
    } finally {
      disk.free();
      await h.stopAll();
    }
  });
});
