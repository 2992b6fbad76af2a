/**
 * POST of `module` composes (reference/odcs-api.md §7.1 step 12 and
 * modules.md): accepted with a Koji hub and MBS (or modular_koji_tags),
 * stored the ODCS way; ODCS's own refusals verbatim, in ODCS's order; our
 * refusals of what this server cannot do.
 */
import { describe, expect, it } from "vitest";
import { composeJson, countRows, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const KOJI = {
  ODCS_KOJI_HUB_URL: "https://koji.example.org/kojihub",
  ODCS_KOJI_TOPURL: "https://kojipkgs.example.org/",
};
const CONFIG = { ...KOJI, ODCS_MBS_URL: "https://mbs.example.org/module-build-service" };

describe("POST /api/1/composes/ of module composes", () => {
  it("N:S, N:S:V and N:S:V:C with the MBS fields and flags, stored as sent", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: {
        type: "module",
        source: "nodejs:18 perl:5.32:8090020240101000000 ruby:3.1:8090020240101000000:a75119d5",
        base_module_br_name: "platform",
        base_module_br_stream: "el8.9.0",
        base_module_br_stream_version_lte: 80900,
        base_module_br_stream_version_gte: 80000,
        packages: ["nodejs"],
        sigkeys: ["fd431d51"],
      },
      flags: ["no_deps", "include_done_modules"],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      composeJson(1, {
        source_type: 2,
        source: "nodejs:18 perl:5.32:8090020240101000000 ruby:3.1:8090020240101000000:a75119d5",
        base_module_br_name: "platform",
        base_module_br_stream: "el8.9.0",
        base_module_br_stream_version_lte: 80900,
        base_module_br_stream_version_gte: 80000,
        packages: "nodejs",
        sigkeys: "fd431d51",
        flags: ["no_deps", "include_done_modules"],
      }),
    );
  });

  it("with modular_koji_tags, no MBS is needed", async () => {
    // module_defaults_url must lie under ODCS_ALLOWED_GIT_URLS.
    const t = await testApp({
      config: { ...KOJI, ODCS_ALLOWED_GIT_URLS: "https://git.example.org/" },
    });
    const res = await t.postJson("/api/1/composes/", {
      source: {
        type: "module",
        source: "nodejs:18",
        modular_koji_tags: ["el8-modular", "el8-modular-extras"],
        koji_event: 42,
        module_defaults_url: "https://git.example.org/defaults.git",
        module_defaults_commit: "main",
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      composeJson(1, {
        source_type: 2,
        source: "nodejs:18",
        modular_koji_tags: "el8-modular el8-modular-extras",
        koji_event: 42,
        module_defaults_url: "https://git.example.org/defaults.git main",
      }),
    );
  });

  const refusals: [string, Record<string, unknown>, unknown, string][] = [
    [
      "an id without a stream (ODCS)",
      CONFIG,
      { source: { type: "module", source: "nodejs:18 nodejs" } },
      'Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got nodejs',
    ],
    [
      "an empty item from a double space (ODCS)",
      CONFIG,
      { source: { type: "module", source: "nodejs:18  perl:5" } },
      'Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got ',
    ],
    [
      "a base module (ODCS)",
      CONFIG,
      { source: { type: "module", source: "nodejs:18 platform:el8" } },
      "ODCS currently cannot create compose with base modules, but platform was requested.",
    ],
    [
      "bootstrap, the other base module (ODCS)",
      CONFIG,
      { source: { type: "module", source: "bootstrap:1" } },
      "ODCS currently cannot create compose with base modules, but bootstrap was requested.",
    ],
    [
      "the id check comes before the flags (ODCS's order)",
      CONFIG,
      { source: { type: "module", source: "nodejs" }, flags: ["bogus"] },
      'Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got nodejs',
    ],
    [
      "no source (ODCS)",
      CONFIG,
      { source: { type: "module", source: "" } },
      "No source provided for 2",
    ],
    [
      "five parts",
      CONFIG,
      { source: { type: "module", source: "a:b:1:c:d" } },
      'Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got a:b:1:c:d',
    ],
    [
      "an empty part",
      CONFIG,
      { source: { type: "module", source: "a::1" } },
      'Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got a::1',
    ],
    [
      "a version that is not a number",
      CONFIG,
      { source: { type: "module", source: "a:b:latest" } },
      "Module version must be a number (n:s:v or n:s:v:c), but got a:b:latest",
    ],
    [
      "scratch modules",
      CONFIG,
      { source: { type: "module", source: "", scratch_modules: ["a:b:1:c"] } },
      'Scratch modules ("scratch_modules", "scratch_build_tasks") are not supported by this server: compose modules that were built for real',
    ],
    [
      "scratch build tasks",
      CONFIG,
      { source: { type: "module", source: "a:b", scratch_build_tasks: ["123"] } },
      'Scratch modules ("scratch_modules", "scratch_build_tasks") are not supported by this server: compose modules that were built for real',
    ],
    [
      "builds",
      CONFIG,
      { source: { type: "module", source: "a:b", builds: ["x-1-1"] } },
      '"builds" is not used by "module" composes: name the modules in "source"',
    ],
    [
      "modules",
      CONFIG,
      { source: { type: "module", source: "a:b", modules: ["a:b:1:c"] } },
      '"modules" is not used by "module" composes: name the modules in "source"',
    ],
    [
      "MBS query fields with modular_koji_tags",
      CONFIG,
      {
        source: {
          type: "module",
          source: "a:b",
          modular_koji_tags: ["t"],
          base_module_br_stream_version_lte: 80900,
        },
      },
      '"base_module_br_stream_version_lte" is an MBS query and does not apply with "modular_koji_tags" (modules are then found in the Koji tags)',
    ],
    [
      "modular_koji_tags of blank names",
      CONFIG,
      { source: { type: "module", source: "a:b", modular_koji_tags: ["", ""] } },
      '"modular_koji_tags" has no tag names',
    ],
    [
      "no Koji hub",
      { ODCS_MBS_URL: "https://mbs.example.org/module-build-service" },
      { source: { type: "module", source: "a:b" } },
      'Source type "module" is not supported by this server: no Koji hub is configured (ODCS_KOJI_HUB_URL)',
    ],
    [
      "no MBS and no modular_koji_tags",
      KOJI,
      { source: { type: "module", source: "a:b" } },
      'Source type "module" needs "modular_koji_tags" on this server: no MBS is configured (ODCS_MBS_URL)',
    ],
    [
      "no_inheritance (module composes always follow the tags' inheritance)",
      CONFIG,
      { source: { type: "module", source: "a:b" }, flags: ["no_inheritance"] },
      'Flag "no_inheritance" is not supported yet for source type "module"',
    ],
  ];
  for (const [name, config, body, message] of refusals) {
    it(`refuses ${name} with a 400, writing nothing`, async () => {
      const t = await testApp({ config });
      const res = await t.postJson("/api/1/composes/", body);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: odcsError(400, message),
      });
      expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
    });
  }
});
