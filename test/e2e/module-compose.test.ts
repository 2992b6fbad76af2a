/**
 * Module composes through the service (the API creates them, a worker
 * builds them) against the test MBS and the test Koji hub with module
 * builds over real RPMs: MBS and Koji-only resolution, the resolved NSVCs
 * stored back into `source`, modules.yaml honoured by dnf (streams listed,
 * modular RPMs hidden until enabled, enable + install), modules.json, the
 * regeneration of a removed compose, and the request checks of
 * `module_defaults_url`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { expireComposes } from "../../src/sweep/expire.ts";
import { tempDir } from "../helpers/db.ts";
import { dnf, dnfInstall } from "../helpers/dnf.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { type MbsServer, startMbs } from "../helpers/mbs-server.ts";
import { type AddedModule, addModules } from "../helpers/module-builds.ts";
import { composeHarness } from "../helpers/service.ts";

const V = "8090020240101000000";
const PLATFORM = ["module_platform_id=platform:el8.9.0"];

let model: KojiModel;
let hub: KojiHub;
let mbs: MbsServer;
let mods: AddedModule[];
let h: Awaited<ReturnType<typeof composeHarness>>;

beforeAll(async () => {
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("e2e-modular", { arches: ["x86_64"] });
  mbs = await startMbs();
  mods = await addModules(
    model,
    mbs,
    [
      {
        name: "e2e-lib",
        stream: "2",
        version: V,
        context: "c0ffee02",
        rpms: [
          {
            name: "e2e-lib",
            version: "2.0",
            release: "1.module_el8",
            files: ["/usr/share/e2e-lib"],
          },
        ],
      },
      {
        name: "e2e-app",
        stream: "1",
        version: V,
        context: "c0ffee01",
        requires: { "e2e-lib": ["2"] },
        profiles: { default: ["e2e-app"] },
        rpms: [
          {
            name: "e2e-app",
            version: "1.0",
            release: "1.module_el8",
            arch: "x86_64",
            requires: ["e2e-lib"],
            files: ["/usr/bin/e2e-app"],
          },
        ],
      },
    ],
    { modularTag: "e2e-modular" },
  );
  hub = await startKojiHub(model);
  h = await composeHarness({
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ODCS_KOJI_TOPURL: hub.topurl,
    ODCS_MBS_URL: mbs.url,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_ALLOWED_GIT_URLS: "https://git.example.com/modules/",
  });
}, 180_000);
afterAll(async () => {
  await h?.stopAll();
  await hub?.close();
  await mbs?.close();
});

const nsvc = (name: string) => mods.find((m) => m.spec.name === name)?.nsvc ?? "";
const repoOf = (id: number) => join(h.dir(id), "compose/Temporary/x86_64/os");

describe("a module compose resolved through MBS", () => {
  let id: number;
  beforeAll(async () => {
    const row = await h.run({ source: { type: "module", source: "e2e-app:1" } });
    id = row.id;
    expect(row.stateReason).toBe("Compose is generated successfully");
  }, 120_000);

  test("the resolved NSVCs (with the required module) are stored in source; koji_event is pinned", async () => {
    const c = await h.get(id);
    expect(c.source).toBe(`${nsvc("e2e-app")} ${nsvc("e2e-lib")}`);
    expect(c.koji_event).toBe(model.lastEvent());
    expect(c.source_type).toBe(2);
  });

  test("dnf: both streams listed; the RPMs hidden until enabled; enable + install", async () => {
    const env = { repos: repoOf(id), setopt: PLATFORM };
    const { stdout } = await dnf(env, ["module", "list"]);
    expect(stdout).toMatch(/^e2e-app\s+1\s/m);
    expect(stdout).toMatch(/^e2e-lib\s+2\s/m);
    await expect(dnfInstall(env, ["e2e-app"])).rejects.toThrow(/e2e-app/);
    const root = join(tempDir("odcs-root-"), "root");
    await dnf({ ...env, installroot: root }, ["module", "enable", "e2e-app:1"]);
    expect(await dnfInstall({ ...env, installroot: root }, ["e2e-app"])).toEqual([
      "e2e-app-1.0-1.module_el8.x86_64",
      "e2e-lib-2.0-1.module_el8.noarch",
    ]);
  });

  test("modules.json and compose_rpms list the module RPMs", async () => {
    const json = JSON.parse(
      await readFile(join(h.dir(id), "compose/metadata/modules.json"), "utf8"),
    );
    expect(Object.keys(json.payload.modules.Temporary.x86_64).sort()).toEqual([
      nsvc("e2e-app"),
      nsvc("e2e-lib"),
    ]);
    expect(json.payload.modules.Temporary.x86_64[nsvc("e2e-app")].rpms).toEqual([
      "e2e-app-0:1.0-1.module_el8.x86_64",
    ]);
    expect((await h.rpms(id)).map((r) => `${r.name}.${r.arch}`).sort()).toEqual([
      "e2e-app.x86_64",
      "e2e-lib.noarch",
    ]);
  });
});

test("Koji-only resolution (modular_koji_tags) with no_deps: the requested module alone", async () => {
  const row = await h.run({
    source: { type: "module", source: "e2e-app:1", modular_koji_tags: ["e2e-modular"] },
    flags: ["no_deps"],
  });
  expect(row.stateReason).toBe("Compose is generated successfully");
  expect(row.source).toBe(nsvc("e2e-app"));
  const { stdout } = await dnf({ repos: repoOf(row.id), setopt: PLATFORM }, ["module", "list"]);
  expect(stdout).toMatch(/^e2e-app\s+1\s/m);
  expect(stdout).not.toMatch(/e2e-lib/);
});

test("module_defaults_url outside ODCS_ALLOWED_GIT_URLS is a 400, nothing written", async () => {
  const res = await h.postJson("/api/1/composes/", {
    source: {
      type: "module",
      source: "e2e-app:1",
      module_defaults_url: "https://evil.example.com/defaults.git",
      module_defaults_commit: "main",
    },
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({
    status: 400,
    error: "Bad Request",
    message:
      '"module_defaults_url" https://evil.example.com/defaults.git is not allowed: not an https, http or file URL under a prefix of ODCS_ALLOWED_GIT_URLS',
  });
});

test("a module MBS does not have fails the compose with ODCS's message", async () => {
  const row = await h.run({ source: { type: "module", source: "e2e-nope:1" } });
  expect(row.stateReason).toBe(
    "Error while generating compose: Failed to find module e2e-nope:1 in ready state in the MBS.",
  );
});

test("a removed compose is regenerated with the same module versions and RPMs, though a newer version is out", async () => {
  const first = await h.run({
    source: { type: "module", source: "e2e-app:1" },
    flags: ["no_deps"],
  });
  expect(first.source).toBe(nsvc("e2e-app"));
  const [newer] = await addModules(model, mbs, [
    {
      name: "e2e-app",
      stream: "1",
      version: "8090020250101000000",
      context: "c0ffee01",
      rpms: [
        {
          name: "e2e-app",
          version: "1.1",
          release: "1.module_el8",
          arch: "x86_64",
          files: ["/usr/bin/e2e-app"],
        },
      ],
    },
  ]);
  const latest = await h.run({
    source: { type: "module", source: "e2e-app:1" },
    flags: ["no_deps"],
  });
  expect(latest.source).toBe(newer?.nsvc);
  expect((await h.request(`/api/1/composes/${first.id}`, { method: "DELETE" })).status).toBe(202);
  h.clock.advance(1);
  expect(
    await expireComposes({
      db: h.db,
      now: () => h.clock.now(),
      log: silentLogger,
      targetDir: h.target,
    }),
  ).toEqual([first.id]);
  const res = await h.request(`/api/1/composes/${first.id}`, {
    method: "PATCH",
    body: "{}",
    headers: { "Content-Type": "application/json" },
  });
  expect(res.status).toBe(200);
  const copy = (await res.json()) as { id: number };
  const w = h.newWorker("regen");
  while ((await w.fill()) > 0) await w.idle();
  const row = await h.row(copy.id);
  expect(row.stateReason).toBe("Compose is generated successfully");
  expect(row.source).toBe(nsvc("e2e-app"));
  expect((await h.rpms(copy.id)).map((r) => `${r.name}-${r.version}`)).toEqual(["e2e-app-1.0"]);
});
