/**
 * createrepo_c on a full disk can exit 0 and leave an empty repomd.xml; a
 * compose was published `done` that way (found by the full-disk stage tests
 * with a checker that reads the repodata). `runCreaterepo` now checks what
 * it says it wrote. Real processes: stand-ins for createrepo_c that exit 0,
 * and the real createrepo_c.
 */
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CreaterepoError, runCreaterepo } from "../../src/worker/tools/createrepo.ts";
import { tempDir } from "../helpers/db.ts";

/** A stand-in that writes `repomd` (or nothing) to `<dir>/repodata/repomd.xml` and exits 0. */
async function exitsZeroWriting(repomd: string): Promise<string> {
  const path = join(tempDir("odcs-fake-createrepo-"), "createrepo_c");
  await writeFile(
    path,
    [
      "#!/bin/sh",
      "for last; do :; done",
      'mkdir -p "$last/repodata"',
      `printf '%s' '${repomd}' > "$last/repodata/repomd.xml"`,
      "exit 0",
      "",
    ].join("\n"),
  );
  await chmod(path, 0o755);
  return path;
}

const PRIMARY = `<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary"><location href="repodata/p-primary.xml.gz"/></data></repomd>`;

describe("runCreaterepo checks the repodata of a run that exited 0", () => {
  test.each([
    ["an empty repomd.xml", "", /left a repodata\/repomd.xml without primary/],
    [
      "a repomd.xml naming a file it did not write",
      PRIMARY,
      /left no repodata\/p-primary.xml.gz, which repodata\/repomd.xml names/,
    ],
  ])("%s is a CreaterepoError", async (_name, repomd, message) => {
    const dir = tempDir("odcs-repo-");
    const bin = await exitsZeroWriting(repomd);
    const err = await runCreaterepo(dir, { bin }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreaterepoError);
    expect((err as Error).message).toMatch(message);
  });

  test("no repomd.xml at all is a CreaterepoError", async () => {
    const dir = tempDir("odcs-repo-");
    const bin = join(tempDir("odcs-fake-createrepo-"), "createrepo_c");
    await writeFile(bin, "#!/bin/sh\nexit 0\n");
    await chmod(bin, 0o755);
    await expect(runCreaterepo(dir, { bin })).rejects.toThrow(/unreadable repodata\/repomd.xml/);
  });

  test("the real createrepo_c's repodata passes", async () => {
    const dir = tempDir("odcs-repo-");
    await mkdir(join(dir, "Packages"), { recursive: true });
    await runCreaterepo(dir);
    expect((await readdir(join(dir, "repodata"))).some((f) => f.endsWith("primary.xml.gz"))).toBe(
      true,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
