/**
 * Multilib black/whitelists from the settings, end to end: real CentOS 7
 * x86_64 + i686 library pairs and rpm's hello pair (a program: the runtime
 * method does not take its i686 build) composed by the real worker.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { tempDir } from "../helpers/db.ts";
import { fixturePath, manifestRows } from "../helpers/fixtures.ts";
import { createRepo } from "../helpers/rpmbuild.ts";
import { composeHarness } from "../helpers/service.ts";

let repo = "";
beforeAll(async () => {
  const pairs = manifestRows()
    .filter((r) => r.kind === "bin" && r.path.startsWith("rpms/centos7-multilib/"))
    .map((r) => fixturePath(r.path));
  const hello = ["x86_64", "i686"].map((a) =>
    fixturePath(`rpms/rpm-org/tests/data/RPMS/hello-2.0-1.${a}.rpm`),
  );
  repo = await createRepo(tempDir("odcs-gm-"), [...pairs, ...hello]);
});

/** The i686 packages a runtime-multilib compose of expat, libsmartcols and hello gets. */
async function i686Of(settings: Record<string, unknown>) {
  const h = await composeHarness(settings);
  const row = await h.run({
    source: { type: "repo", source: repo, packages: ["expat", "libsmartcols", "hello"] },
    multilib_arches: ["x86_64"],
    multilib_method: ["runtime"],
  });
  expect(row.stateReason).toBe("Compose is generated successfully");
  const rows = await h.rpms(row.id);
  for (const r of rows)
    expect(existsSync(join(h.dir(row.id), "compose/Temporary/x86_64/os", r.path))).toBe(true);
  return rows
    .filter((r) => r.arch === "i686")
    .map((r) => r.name)
    .sort();
}

describe("ODCS_MULTILIB_BLACKLIST / ODCS_MULTILIB_WHITELIST", () => {
  test("without lists the runtime method takes the two i686 libraries", async () => {
    expect(await i686Of({})).toEqual(["expat", "libsmartcols"]);
  });

  test("a blacklisted i686 library is left out, a whitelisted program is taken", async () => {
    const got = await i686Of({
      ODCS_MULTILIB_BLACKLIST: '{"x86_64": ["exp*"]}',
      // libuuid is whitelisted but its x86_64 build is not in the compose: not taken.
      ODCS_MULTILIB_WHITELIST: '{"*": ["hello", "libuuid"]}',
    });
    expect(got).toEqual(["hello", "libsmartcols"]);
  });

  test("lists for another tree arch do not apply", async () => {
    expect(await i686Of({ ODCS_MULTILIB_BLACKLIST: { ppc64: ["expat"] } })).toEqual([
      "expat",
      "libsmartcols",
    ]);
  });

  test("a malformed list stops the service from starting, naming the setting", async () => {
    await expect(
      composeHarness({ ODCS_MULTILIB_WHITELIST: '{"x86_64": "hello"}' }),
    ).rejects.toThrow(
      new ConfigError(
        "invalid setting ODCS_MULTILIB_WHITELIST.x86_64: expected a list of package name globs",
      ),
    );
  });
});
