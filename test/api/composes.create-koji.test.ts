import { describe, expect, it } from "vitest";
import { composeJson, countRows, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const CONFIG = {
  ODCS_KOJI_HUB_URL: "https://koji.example.org/kojihub",
  ODCS_KOJI_TOPURL: "https://kojipkgs.example.org/",
};

describe("POST /api/1/composes/ with a Koji hub configured", () => {
  it("a tag compose with builds on top, sigkeys and an event, stored the ODCS way", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: {
        type: "tag",
        source: "f40-build",
        packages: ["bash"],
        builds: ["bash-5.2.26-1.fc40", "python-rpm-macros-3.12-7.fc40"],
        sigkeys: ["A15B79CC", ""],
        koji_event: 123,
      },
      flags: ["no_inheritance"],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      composeJson(1, {
        source_type: 1,
        source: "f40-build",
        packages: "bash",
        builds: "bash-5.2.26-1.fc40 python-rpm-macros-3.12-7.fc40",
        sigkeys: "A15B79CC ",
        koji_event: 123,
        flags: ["no_inheritance"],
      }),
    );
  });

  it("a build compose: source empty, content from builds", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: { type: "build", builds: ["bash-5.2.26-1.fc40"], sigkeys: [] },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      composeJson(1, { source_type: 6, source: "", builds: "bash-5.2.26-1.fc40" }),
    );
  });

  const refusals: [string, unknown, string][] = [
    [
      "a malformed NVR",
      { source: { type: "build", builds: ["bash-5.2.26-1.fc40", "bash"] } },
      'Invalid NVR "bash" in builds: expected name-version-release',
    ],
    [
      "an NVR with an arch-less dash count wrong",
      { source: { type: "tag", source: "f40", builds: ["bash-5.2"] } },
      'Invalid NVR "bash-5.2" in builds: expected name-version-release',
    ],
    [
      "a build compose without builds",
      { source: { type: "build", builds: [] } },
      'A "build" compose needs "builds": the NVRs of the Koji builds to compose',
    ],
    [
      "a build compose with a source",
      { source: { type: "build", source: "f40", builds: ["a-1-1"] } },
      'A "build" compose takes its builds from "builds"; "source" must be empty',
    ],
    [
      "two tags",
      { source: { type: "tag", source: "f40 f41" } },
      'A "tag" compose takes one Koji tag in "source", not 2: f40 f41',
    ],
    [
      "modular_koji_tags",
      { source: { type: "tag", source: "f40", modular_koji_tags: ["f40-modular"] } },
      '"modular_koji_tags" is not supported by this server yet (module composes); leave it out of "tag" composes',
    ],
    [
      "modules",
      { source: { type: "build", builds: ["a-1-1"], modules: ["m:s:1:c"] } },
      '"modules" is not supported by this server yet (module composes); leave it out of "build" composes',
    ],
    [
      "module defaults",
      {
        source: {
          type: "tag",
          source: "f40",
          module_defaults_url: "https://x/y.git",
          module_defaults_commit: "main",
        },
      },
      '"module_defaults_url" is not supported by this server yet (module composes); leave it out of "tag" composes',
    ],
    [
      "scratch_build_tasks",
      { source: { type: "tag", source: "f40", scratch_build_tasks: ["123"] } },
      '"scratch_build_tasks" is not supported by this server yet (module composes); leave it out of "tag" composes',
    ],
    [
      "no_inheritance on a build compose (it acts on tags only)",
      { source: { type: "build", builds: ["a-1-1"] }, flags: ["no_inheritance"] },
      'Flag "no_inheritance" is not supported yet for source type "build"',
    ],
    [
      "module composes without MBS nor modular_koji_tags",
      { source: { type: "module", source: "m:s" } },
      'Source type "module" needs "modular_koji_tags" on this server: no MBS is configured (ODCS_MBS_URL)',
    ],
  ];
  for (const [name, body, message] of refusals) {
    it(`refuses ${name} with a 400, writing nothing`, async () => {
      const t = await testApp({ config: CONFIG });
      const res = await t.postJson("/api/1/composes/", body);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: odcsError(400, message),
      });
      expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
    });
  }

  it('empty module lists are as absent (ODCS stores them as "")', async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: { type: "tag", source: "f40", modular_koji_tags: [], modules: [] },
    });
    expect(res.status).toBe(200);
  });
});
