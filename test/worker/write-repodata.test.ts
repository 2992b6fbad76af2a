/**
 * writeRepodata's two ways to the same files: small gz repositories are
 * built in memory, the rest streamed through compressors. Both must give the
 * same XML (what test/rpm/repodata-write.test.ts holds against createrepo_c,
 * dnf and libsolv) and a repomd.xml the reader takes back.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { writeRepodata } from "../../src/worker/tools/write-repodata.ts";
import { tempDir } from "../helpers/db.ts";
import { LIBDNF_REPO } from "../helpers/service.ts";

const NOW = 1_795_248_000;
const reader = (root: string) => (rel: string) => readFile(join(root, rel));

describe("writeRepodata, in memory and streamed", () => {
  test("write the same XML, and both read back as the source", async () => {
    const source = await readRepodata(reader(LIBDNF_REPO), { filelists: true, other: true });
    const entries = source.packages.map((pkg) => ({ pkg, location: pkg.location }));
    const small = tempDir();
    const streamed = tempDir();
    const a = await writeRepodata(small, entries, { compression: "gz", now: NOW });
    const b = await writeRepodata(streamed, entries, {
      compression: "gz",
      now: NOW,
      inMemoryMaxPackages: 0,
    });
    const open = (r: typeof a) => r.records.map((x) => [x.type, x.openChecksum, x.openSize]);
    expect(open(a)).toEqual(open(b));
    for (const [dir, info] of [
      [small, a],
      [streamed, b],
    ] as const) {
      for (const r of info.records) {
        const bytes = await readFile(join(dir, r.location));
        expect(bytes.length).toBe(r.size);
        expect(gunzipSync(bytes).length).toBe(r.openSize);
      }
      const back = await readRepodata(reader(dir), { filelists: true, other: true });
      expect(back.packages).toEqual(source.packages);
      expect((await readdir(join(dir, "repodata"))).sort()).toEqual(
        [...info.records.map((r) => r.location.slice("repodata/".length)), "repomd.xml"].sort(),
      );
    }
  });

  test("an existing file of the same content is left as it is", async () => {
    const source = await readRepodata(reader(LIBDNF_REPO), { filelists: true, other: true });
    const entries = source.packages.map((pkg) => ({ pkg, location: pkg.location }));
    const dir = tempDir();
    const first = await writeRepodata(dir, entries, { compression: "gz", now: NOW });
    const again = await writeRepodata(dir, entries, { compression: "gz", now: NOW + 1 });
    expect(again.records.map((r) => r.location)).toEqual(first.records.map((r) => r.location));
    const back = await readRepodata(reader(dir), { filelists: true, other: true });
    expect(back.packages).toEqual(source.packages);
  });
});
