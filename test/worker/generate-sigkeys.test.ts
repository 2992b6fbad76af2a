/**
 * Signatures are checked on what the compose takes, not on the whole source:
 * real RPMs signed with throwaway keys next to the libdnf fixture repo (272
 * unsigned binary packages the requests never need), composed by the real
 * worker.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import { buildRpms, createRepo, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

const DONE = "Compose is generated successfully";

const DESCRIPTIONS: RpmDescription[] = [
  { name: "gs-app", requires: ["gs-lib"], files: ["/usr/bin/gs-app"] },
  { name: "gs-lib", files: ["/usr/share/gs-lib/data"] },
  { name: "gs-tool", requires: ["gs-plain"], files: ["/usr/bin/gs-tool"] },
  { name: "gs-plain", files: ["/usr/share/gs-plain/data"] },
];

let keyA: TestKey;
let keyB: TestKey;
/** gs-app (A), gs-lib (B), gs-tool (A), gs-plain (unsigned). */
let mixed = "";
/** gs-lib (A). */
let libA = "";
/** gs-lib (B). */
let libB = "";

beforeAll(async () => {
  const [built, a, b] = await Promise.all([
    buildRpms(DESCRIPTIONS),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
  keyA = a;
  keyB = b;
  const [app, lib, tool, plain] = built.map((r) => r.path);
  if (!app || !lib || !tool || !plain) throw new Error("rpmbuild built too little");
  mixed = await createRepo(tempDir("odcs-gs-mixed-"), [
    await signRpm(app, keyA),
    await signRpm(lib, keyB),
    await signRpm(tool, keyA),
    plain,
  ]);
  libA = await createRepo(tempDir("odcs-gs-lib-a-"), [await signRpm(lib, keyA)]);
  libB = await createRepo(tempDir("odcs-gs-lib-b-"), [await signRpm(lib, keyB)]);
}, 120_000);

let h: Awaited<ReturnType<typeof composeHarness>>;
beforeAll(async () => {
  h = await composeHarness();
});

async function compose(sources: string[], packages: string[], sigkeys: string[]) {
  const row = await h.run({
    source: { type: "repo", source: sources.join(" "), packages, sigkeys },
  });
  const rpms = (await h.rpms(row.id))
    .map((r) => ({ name: r.name, sigkey: r.sigkey, sourceRepo: r.sourceRepo }))
    .sort((x, y) => x.name.localeCompare(y.name));
  const log = await readFile(join(h.dir(row.id), "pungi-stderr.log"), "utf8");
  const m =
    /sigkeys: read (\d+) RPM headers in [\d.]+ ms \((\d+) already known\) for (\d+) selected packages/.exec(
      log,
    );
  const headers = m ? { read: Number(m[1]), known: Number(m[2]), selected: Number(m[3]) } : null;
  return { row, rpms, log, headers };
}

describe("a compose with sigkeys reads the headers of what it takes only", () => {
  test("unrelated unsigned packages in the sources do not fail it", async () => {
    const { row, rpms, headers } = await compose(
      [LIBDNF_REPO, mixed],
      ["gs-app"],
      [keyA.sigkey, keyB.sigkey],
    );
    expect(row.stateReason).toBe(DONE);
    expect(rpms).toEqual([
      { name: "gs-app", sigkey: keyA.sigkey, sourceRepo: mixed },
      { name: "gs-lib", sigkey: keyB.sigkey, sourceRepo: mixed },
    ]);
    // Checking the whole package set instead read all 272 x86_64/noarch headers of the
    // sources and failed on the 269 unsigned ones.
    expect(headers).toEqual({ read: 2, known: 0, selected: 2 });
  });

  test("a dependency without an allowed signature fails it, named", async () => {
    const { row, headers } = await compose(
      [LIBDNF_REPO, mixed],
      ["gs-tool"],
      [keyA.sigkey, keyB.sigkey],
    );
    expect(row.stateReason).toBe(
      `Error while generating compose: these packages for x86_64 have no signature by an allowed key (sigkeys "${keyA.sigkey} ${keyB.sigkey}"): gs-plain-1.0-1.noarch`,
    );
    expect(headers).toEqual({ read: 2, known: 0, selected: 2 });
  });

  test('"" allows the unsigned dependency', async () => {
    const { row, rpms } = await compose([mixed], ["gs-tool"], [keyA.sigkey, ""]);
    expect(row.stateReason).toBe(DONE);
    expect(rpms.map((r) => [r.name, r.sigkey])).toEqual([
      ["gs-plain", null],
      ["gs-tool", keyA.sigkey],
    ]);
  });

  test("of two copies in two repos, the one signed with the preferred key is taken", async () => {
    const first = await compose([libA, libB], ["gs-lib"], [keyB.sigkey, keyA.sigkey]);
    expect(first.row.stateReason).toBe(DONE);
    expect(first.rpms).toEqual([{ name: "gs-lib", sigkey: keyB.sigkey, sourceRepo: libB }]);
    // Both copies were read: one selected package.
    expect(first.headers).toEqual({ read: 2, known: 0, selected: 1 });

    const second = await compose([libA, libB], ["gs-lib"], [keyA.sigkey, keyB.sigkey]);
    expect(second.rpms).toEqual([{ name: "gs-lib", sigkey: keyA.sigkey, sourceRepo: libA }]);
    expect(second.headers).toEqual({ read: 0, known: 2, selected: 1 });

    const placed = await readFile(
      join(h.dir(first.row.id), "compose/Temporary/x86_64/os/Packages/g/gs-lib-1.0-1.noarch.rpm"),
    );
    expect(placed.equals(await readFile(join(libB, "gs-lib-1.0-1.noarch.rpm")))).toBe(true);
  });
});
