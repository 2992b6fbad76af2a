/**
 * modules.yaml added to a repository's repodata the way
 * `modifyrepo_c --mdtype=modules --compress-type=gz` adds it: the same
 * record (checksums, sizes, location name), the same bytes, and dnf reads
 * the module streams from it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, test } from "vitest";
import { addRepodataFile } from "../../src/worker/tools/add-repodata-file.ts";
import { tempDir } from "../helpers/db.ts";
import { dnf } from "../helpers/dnf.ts";
import { modulemdDoc } from "../helpers/modulemd.ts";
import { buildRpms } from "../helpers/rpmbuild.ts";

const run = promisify(execFile);

const record = (xml: string, type: string) =>
  new RegExp(`<data type="${type}">[\\s\\S]*?</data>`).exec(xml)?.[0] ?? "";
const field = (rec: string, re: RegExp) => re.exec(rec)?.[1];

const yaml = modulemdDoc({
  name: "ar",
  stream: "1",
  version: "20240101000000",
  context: "00000000",
  rpms: ["ar-pkg-0:1.0-1.noarch"],
  profile: ["ar-pkg"],
});

let base: string;
beforeAll(async () => {
  const [rpm] = await buildRpms([{ name: "ar-pkg", version: "1.0", release: "1" }]);
  base = tempDir("odcs-addrepodata-");
  await cp(rpm?.path ?? "", join(base, "ar-pkg-1.0-1.noarch.rpm"));
  await run("createrepo_c", ["-q", "--no-database", base]);
}, 120_000);

describe("addRepodataFile", () => {
  test("writes the record modifyrepo_c writes: same fields, open-checksum and open-size; checksum and size of the stored file", async () => {
    const ours = tempDir("odcs-ours-");
    const theirs = tempDir("odcs-theirs-");
    await cp(base, ours, { recursive: true });
    await cp(base, theirs, { recursive: true });
    const src = join(tempDir("odcs-yaml-"), "modules.yaml");
    await writeFile(src, yaml);
    await run("modifyrepo_c", [
      "--mdtype=modules",
      "--compress-type=gz",
      src,
      join(theirs, "repodata"),
    ]);
    const theirXml = await readFile(join(theirs, "repodata/repomd.xml"), "utf8");
    const theirRec = record(theirXml, "modules");
    const now = Number(field(theirRec, /<timestamp>(\d+)</));
    const added = await addRepodataFile(ours, {
      type: "modules",
      name: "modules.yaml",
      content: yaml,
      now,
    });
    const ourXml = await readFile(join(ours, "repodata/repomd.xml"), "utf8");
    const ourRec = record(ourXml, "modules");
    // Node's zlib and the system's compress the same text to other bytes; all else is equal.
    const stored = await readFile(join(ours, added.location));
    const sha = createHash("sha256").update(stored).digest("hex");
    const theirSha = field(theirRec, /<checksum type="sha256">([0-9a-f]+)</) ?? "";
    const theirSize = field(theirRec, /<size>(\d+)</) ?? "";
    expect(ourRec).toBe(
      theirRec
        .split(theirSha)
        .join(sha)
        .replace(`<size>${theirSize}</size>`, `<size>${stored.length}</size>`),
    );
    // Everything else in repomd.xml is left as it was.
    expect(ourXml.replace(ourRec, "")).toBe(theirXml.replace(theirRec, ""));
    expect(added.location).toBe(`repodata/${sha}-modules.yaml.gz`);
    expect(gunzipSync(stored).toString("utf8")).toBe(yaml);
    expect(
      gunzipSync(await readFile(join(theirs, `repodata/${theirSha}-modules.yaml.gz`))).toString(
        "utf8",
      ),
    ).toBe(yaml);
  });

  test("a second call replaces the record and its file", async () => {
    const repo = tempDir("odcs-twice-");
    await cp(base, repo, { recursive: true });
    const first = await addRepodataFile(repo, {
      type: "modules",
      name: "modules.yaml",
      content: yaml,
      now: 1,
    });
    const second = await addRepodataFile(repo, {
      type: "modules",
      name: "modules.yaml",
      content: `${yaml}# changed\n`,
      now: 2,
    });
    expect(second.checksum).not.toBe(first.checksum);
    const xml = await readFile(join(repo, "repodata/repomd.xml"), "utf8");
    expect(xml.match(/<data type="modules">/g)).toHaveLength(1);
    const names = await readdir(join(repo, "repodata"));
    expect(names.filter((n) => n.endsWith("modules.yaml.gz"))).toEqual([second.location.slice(9)]);
  });

  test("dnf reads the module stream from the repository", async () => {
    const repo = tempDir("odcs-dnfmod-");
    await cp(base, repo, { recursive: true });
    await addRepodataFile(repo, { type: "modules", name: "modules.yaml", content: yaml, now: 1 });
    const { stdout } = await dnf({ repos: repo, setopt: ["module_platform_id=platform:el8"] }, [
      "module",
      "list",
    ]);
    expect(stdout).toMatch(/^ar\s+1\s+default\s+ar module$/m);
  });
});
