/**
 * Module resolution through MBS (reference/modules.md §2) against the
 * test MBS and Koji hub: every selection rule, the queries ODCS sends,
 * ODCS's error messages, pagination, and the Koji lookups (build id,
 * per-arch modulemd from the build's archives) when a hub is given.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ComposeError } from "../../../src/sources/errors.ts";
import { KojiClient } from "../../../src/sources/koji/client.ts";
import { MbsClient } from "../../../src/sources/module/mbs.ts";
import { resolveModules } from "../../../src/sources/module/resolve.ts";
import { dependencyBounds } from "../../../src/sources/module/resolve-mbs.ts";
import type { ModuleRequest, ModuleResolveDeps } from "../../../src/sources/module/types.ts";
import { tempDir } from "../../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../../helpers/koji-hub.ts";
import { type MbsServer, startMbs } from "../../helpers/mbs-server.ts";
import { type AddedModule, addModules } from "../../helpers/module-builds.ts";
import { modulemdV2, readModulemd } from "../../helpers/modulemd.ts";

let mbs: MbsServer;
let model: KojiModel;
let hub: KojiHub;
let added: AddedModule[];

const V_OLD = "8080020230101000000";
const V = "8090020231219110341";
const V_DONE = "8090020240101000000";

beforeAll(async () => {
  mbs = await startMbs();
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  added = await addModules(model, mbs, [
    {
      name: "nodejs",
      stream: "18",
      version: V,
      context: "a75119d5",
      rpms: [
        {
          name: "nodejs",
          version: "18.1",
          release: "1.module_el8",
          arch: "x86_64",
          files: ["/usr/bin/node"],
        },
        {
          name: "nodejs-docs",
          version: "18.1",
          release: "1.module_el8",
          files: ["/usr/share/doc/node"],
        },
      ],
      arches: ["x86_64", "aarch64"],
    },
    { name: "nodejs", stream: "18", version: V, context: "b75119d5", kojiState: null },
    { name: "nodejs", stream: "18", version: V_OLD, context: "a75119d5", kojiState: null },
    {
      name: "nodejs",
      stream: "18",
      version: V_DONE,
      context: "a75119d5",
      mbsState: 3,
      kojiState: null,
    },
    {
      name: "nodejs",
      stream: "18",
      version: "9999920250101000000",
      context: "f0000000",
      mbsState: 4,
      kojiState: null,
    },
    {
      name: "app",
      stream: "1",
      version: "8090020240201000000",
      context: "11111111",
      requires: { lib: ["2"], bootstrap: ["el8"] },
      kojiState: null,
    },
    {
      name: "lib",
      stream: "2",
      version: "8080020231001000000",
      context: "22222222",
      platform: { stream: "el8.8.0", streamVersion: 80800 },
      requires: { perl: ["5"] },
      kojiState: null,
    },
    {
      name: "lib",
      stream: "2",
      version: "9030020240101000000",
      context: "33333333",
      platform: { stream: "el9.3.0", streamVersion: 90300 },
      kojiState: null,
    },
    {
      name: "perl",
      stream: "5",
      version: "8090020230501000000",
      context: "44444444",
      platform: { stream: "el8.6.0", streamVersion: 80600 },
      kojiState: null,
    },
    {
      name: "python39",
      stream: "3.9",
      version: "8090020230601000000",
      context: "55555555",
      kojiState: null,
    },
    {
      name: "loop",
      stream: "a",
      version: "1",
      context: "66666666",
      requires: { loopb: ["b"] },
      kojiState: null,
    },
    {
      name: "loopb",
      stream: "b",
      version: "1",
      context: "77777777",
      requires: { loop: ["a"] },
      kojiState: null,
    },
    {
      name: "needy",
      stream: "1",
      version: "1",
      context: "88888888",
      requires: { ghost: ["1"] },
      kojiState: null,
    },
  ]);
  // 120 contexts of the newest version (past one page of 100), 30 of an older one.
  for (let i = 0; i < 150; i++) {
    const version = i < 120 ? "20240101000000" : "20230101000000";
    const context = `c${i.toString(16).padStart(7, "0")}`;
    mbs.add({
      name: "many",
      stream: "1",
      version,
      context,
      modulemd: modulemdV2({ name: "many", stream: "1", version, context }),
    });
  }
  hub = await startKojiHub(model);
}, 120_000);
afterAll(async () => {
  await mbs?.close();
  await hub?.close();
});

const request = (modules: string[], over: Partial<ModuleRequest> = {}): ModuleRequest => ({
  modules,
  noDeps: false,
  includeDone: false,
  baseModuleBrName: null,
  baseModuleBrStream: null,
  baseModuleBrStreamVersionLte: null,
  baseModuleBrStreamVersionGte: null,
  modularKojiTags: [],
  kojiEvent: null,
  ...over,
});

const deps = (over: Partial<ModuleResolveDeps> = {}): ModuleResolveDeps => ({
  mbs: new MbsClient({ url: mbs.url, retryDelayMs: () => 0 }),
  ...over,
});

const nsvcs = async (req: ModuleRequest, d = deps()) =>
  (await resolveModules(req, d)).map((m) => m.nsvc);

/** The queries (key, value pairs) of the MBS requests made by `fn`. */
async function queriesOf(fn: () => Promise<unknown>): Promise<[string, string][][]> {
  const before = mbs.requests.length;
  await fn();
  return mbs.requests.slice(before).map((r) => r.query);
}

async function failure(p: Promise<unknown>): Promise<ComposeError> {
  const err = await p.then(
    () => new Error("resolved"),
    (e: unknown) => e,
  );
  if (!(err instanceof ComposeError)) throw err;
  return err;
}

describe("selection", () => {
  test("N:S: all contexts of the newest ready version, sorted; the query is ODCS's", async () => {
    const queries = await queriesOf(async () =>
      expect(await nsvcs(request(["nodejs:18"]))).toEqual([
        `nodejs:18:${V}:a75119d5`,
        `nodejs:18:${V}:b75119d5`,
      ]),
    );
    expect(queries).toEqual([
      [
        ["nsvc", "nodejs:18"],
        ["state", "5"],
        ["verbose", "true"],
        ["order_desc_by", "version"],
        ["page", "1"],
        ["per_page", "100"],
      ],
    ]);
  });

  test("include_done_modules: state done too (state=5&state=3), so the newer done build wins", async () => {
    const queries = await queriesOf(async () =>
      expect(await nsvcs(request(["nodejs:18"], { includeDone: true }))).toEqual([
        `nodejs:18:${V_DONE}:a75119d5`,
      ]),
    );
    expect(queries[0]?.filter(([k]) => k === "state")).toEqual([
      ["state", "5"],
      ["state", "3"],
    ]);
  });

  test("a full NSVC is taken in state done without the flag; N:S:V is not", async () => {
    expect(await nsvcs(request([`nodejs:18:${V_DONE}:a75119d5`]))).toEqual([
      `nodejs:18:${V_DONE}:a75119d5`,
    ]);
    expect((await failure(nsvcs(request([`nodejs:18:${V_DONE}`])))).message).toBe(
      `Failed to find module nodejs:18:${V_DONE} in ready state in the MBS.`,
    );
    expect(await nsvcs(request([`nodejs:18:${V_OLD}`]))).toEqual([`nodejs:18:${V_OLD}:a75119d5`]);
  });

  test("failed builds are never taken; unknown modules fail with ODCS's message", async () => {
    expect(
      (await failure(nsvcs(request(["nodejs:18:9999920250101000000:f0000000"])))).message,
    ).toBe(
      "Failed to find module nodejs:18:9999920250101000000:f0000000 in ready or done state in the MBS.",
    );
    const err = await failure(nsvcs(request(["nosuch:1"], { includeDone: true })));
    expect(err.message).toBe("Failed to find module nosuch:1 in ready or done state in the MBS.");
    expect(err.retryable).toBe(false);
  });

  test("-devel: found through the non-devel module, renamed, requiring it (libmodulemd reads it)", async () => {
    const before = mbs.requests.length;
    const [m, ...rest] = await resolveModules(
      request(["python39-devel:3.9"], { noDeps: true }),
      deps(),
    );
    expect(rest).toEqual([]);
    expect(mbs.requests.slice(before).map((r) => r.query[0])).toEqual([
      ["nsvc", "python39-devel:3.9"],
      ["nsvc", "python39:3.9"],
    ]);
    expect(m?.nsvc).toBe("python39-devel:3.9:8090020230601000000:55555555");
    expect(m?.develOf).toBe("python39:3.9");
    expect(m?.kojiTag).toBe("module-python39-3.9-8090020230601000000-55555555");
    const read = await readModulemd(m?.modulemd ?? "");
    expect(read.streams.map((s) => [s.nsvc, s.requires])).toEqual([
      [
        "python39-devel:3.9:8090020230601000000:55555555",
        [{ platform: ["el8.9.0"], python39: ["3.9"] }],
      ],
    ]);
  });

  test("-devel without dependency expansion off: the devel module's requirement pulls in the non-devel one", async () => {
    expect(await nsvcs(request(["python39-devel:3.9"]))).toEqual([
      "python39-devel:3.9:8090020230601000000:55555555",
      "python39:3.9:8090020230601000000:55555555",
    ]);
  });

  test("two versions of one N:S conflict (ODCS's message); the same NSVC twice is one", async () => {
    expect(
      (await failure(nsvcs(request([`nodejs:18:${V_OLD}`, `nodejs:18:${V}:a75119d5`])))).message,
    ).toBe(`nodejs:18:${V}:a75119d5 conflicts with nodejs:18:${V_OLD}:a75119d5`);
    expect(await nsvcs(request(["nodejs:18", `nodejs:18:${V}:a75119d5`]))).toEqual([
      `nodejs:18:${V}:a75119d5`,
      `nodejs:18:${V}:b75119d5`,
    ]);
  });
});

describe("dependencies", () => {
  test("runtime requirements are added, bounded by the requiring module's platform; base modules skipped", async () => {
    const queries = await queriesOf(async () =>
      expect(await nsvcs(request(["app:1"]))).toEqual([
        "app:1:8090020240201000000:11111111",
        "lib:2:8080020231001000000:22222222",
        "perl:5:8090020230501000000:44444444",
      ]),
    );
    expect(queries).toEqual([
      [
        ["nsvc", "app:1"],
        ["state", "5"],
        ["verbose", "true"],
        ["order_desc_by", "version"],
        ["page", "1"],
        ["per_page", "100"],
      ],
      // app was built against el8.9.0 (80900): lib:2 from [80000, 80900], so not the el9 build.
      [
        ["nsvc", "lib:2"],
        ["state", "5"],
        ["verbose", "true"],
        ["order_desc_by", "version"],
        ["base_module_br_stream_version_lte", "80900"],
        ["base_module_br_stream_version_gte", "80000"],
        ["page", "1"],
        ["per_page", "100"],
      ],
      // lib was built against el8.8.0 (80800).
      [
        ["nsvc", "perl:5"],
        ["state", "5"],
        ["verbose", "true"],
        ["order_desc_by", "version"],
        ["base_module_br_stream_version_lte", "80800"],
        ["base_module_br_stream_version_gte", "80000"],
        ["page", "1"],
        ["per_page", "100"],
      ],
    ]);
  });

  test("no_deps: only what was asked for", async () => {
    expect(await nsvcs(request(["app:1"], { noDeps: true }))).toEqual([
      "app:1:8090020240201000000:11111111",
    ]);
  });

  test("a requirement already present is not looked up again (cycles end)", async () => {
    const queries = await queriesOf(async () =>
      expect(await nsvcs(request(["loop:a"]))).toEqual(["loop:a:1:66666666", "loopb:b:1:77777777"]),
    );
    expect(queries.map((q) => q[0])).toEqual([
      ["nsvc", "loop:a"],
      ["nsvc", "loopb:b"],
    ]);
  });

  test("a requirement MBS does not have fails with ODCS's message", async () => {
    expect((await failure(nsvcs(request(["needy:1"])))).message).toBe(
      "Failed to find module ghost:1 in ready state in the MBS.",
    );
  });

  test("the bounds: stream_version, and the stream's first digits padded to as many digits", () => {
    const item = (stream: string, sv: number | null) => ({
      id: 1,
      name: "x",
      stream: "1",
      version: "1",
      context: "c",
      state: 5,
      kojiTag: "",
      modulemd: "",
      baseModuleBuildrequires: [
        { name: "platform", stream, streamVersion: sv, version: "2", context: "00000000" },
      ],
    });
    const base = new Set(["platform", "bootstrap"]);
    expect(dependencyBounds(item("el8.9.0", 80900), base)).toEqual({
      lte: 80900,
      gte: 80000,
    });
    expect(dependencyBounds(item("f39", 390000), base)).toEqual({
      lte: 390000,
      gte: 390000,
    });
    expect(dependencyBounds(item("el8", null), base)).toBeNull();
  });
});

describe("request fields and paging", () => {
  test("base_module_br_* of the request are sent and restrict the builds", async () => {
    const queries = await queriesOf(async () =>
      expect(
        await nsvcs(
          request(["lib:2"], {
            noDeps: true,
            baseModuleBrName: "platform",
            baseModuleBrStream: "el9.3.0",
            baseModuleBrStreamVersionLte: 99999,
            baseModuleBrStreamVersionGte: 90000,
          }),
        ),
      ).toEqual(["lib:2:9030020240101000000:33333333"]),
    );
    expect(queries[0]).toEqual([
      ["nsvc", "lib:2"],
      ["state", "5"],
      ["verbose", "true"],
      ["order_desc_by", "version"],
      ["base_module_br_name", "platform"],
      ["base_module_br_stream", "el9.3.0"],
      ["base_module_br_stream_version_lte", "99999"],
      ["base_module_br_stream_version_gte", "90000"],
      ["page", "1"],
      ["per_page", "100"],
    ]);
  });

  test("pages are followed while the newest version goes on, and no further", async () => {
    const queries = await queriesOf(async () => {
      const got = await nsvcs(request(["many:1"]));
      expect(got).toHaveLength(120);
      expect(new Set(got.map((n) => n.split(":")[2]))).toEqual(new Set(["20240101000000"]));
    });
    expect(queries.map((q) => q.find(([k]) => k === "page"))).toEqual([
      ["page", "1"],
      ["page", "2"],
    ]);
  });
});

describe("with a Koji hub", () => {
  test("the module's Koji build, its per-arch modulemd from the archives, its RPMs", async () => {
    const koji = new KojiClient({ hubUrl: hub.hubUrl });
    const [a, b] = await resolveModules(
      request(["nodejs:18"]),
      deps({ koji, kojiTop: { kind: "url", url: hub.topurl } }),
    );
    const node = added[0] as AddedModule;
    expect(a).toEqual({
      name: "nodejs",
      stream: "18",
      version: V,
      context: "a75119d5",
      nsvc: `nodejs:18:${V}:a75119d5`,
      kojiTag: `module-nodejs-18-${V}-a75119d5`,
      modulemd: node.modulemd,
      archModulemd: node.archModulemd,
      rpms: ["nodejs-0:18.1-1.module_el8.x86_64", "nodejs-docs-0:18.1-1.module_el8.noarch"],
      kojiBuildId: node.kojiBuildId,
      develOf: null,
    });
    expect(Object.keys(a?.archModulemd ?? {})).toEqual(["aarch64", "x86_64"]);
    const arm = await readModulemd(a?.archModulemd.aarch64 ?? "");
    expect(arm.streams.map((s) => [s.arch, s.rpms])).toEqual([
      ["aarch64", ["nodejs-docs-0:18.1-1.module_el8.noarch"]],
    ]);
    // No Koji build for the other context: no id, no per-arch documents.
    expect([b?.nsvc, b?.kojiBuildId, b?.archModulemd]).toEqual([
      `nodejs:18:${V}:b75119d5`,
      null,
      {},
    ]);
  });

  test("the same from Koji's top dir", async () => {
    const koji = new KojiClient({ hubUrl: hub.hubUrl });
    const [a] = await resolveModules(
      request([`nodejs:18:${V}:a75119d5`]),
      deps({ koji, kojiTop: { kind: "dir", dir: hub.topdir } }),
    );
    expect(a?.archModulemd).toEqual((added[0] as AddedModule).archModulemd);
  });
});

describe("MBS failures", () => {
  test("5xx and no answer are retried; still failing is a retryable error", async () => {
    mbs.failNext(1, "http503");
    mbs.failNext(1, "reset");
    expect(await nsvcs(request(["perl:5"]))).toEqual(["perl:5:8090020230501000000:44444444"]);
    mbs.failNext(4, "http500");
    const err = await failure(nsvcs(request(["perl:5"])));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      /^MBS answered http:\/\/127\.0\.0\.1:\d+\/module-build-service\/1\/module-builds\/\?nsvc=perl%3A5&state=5&verbose=true&order_desc_by=version&page=1&per_page=100 with HTTP 500: Internal Server Error \(4 attempts\)$/,
    );
  });

  test("a 4xx is final, with MBS's message", async () => {
    const client = new MbsClient({ url: mbs.url, retryDelayMs: () => 0 });
    const err = await failure(client.moduleBuilds({ nsvc: "x:1", state: ["bogus"] }));
    expect([err.retryable, err.message.replace(/^.* with /, "")]).toEqual([
      false,
      "HTTP 400: An invalid state was supplied: bogus",
    ]);
  });

  test("an answer that is not JSON is final", async () => {
    mbs.failNext(1, "notjson");
    const err = await failure(nsvcs(request(["perl:5"])));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/with something that is not JSON: <html>maintenance<\/html>$/);
  });

  test("no MBS listening: retryable, saying it could not reach it", async () => {
    const dead = await startMbs();
    const url = dead.url;
    await dead.close();
    const err = await failure(
      nsvcs(request(["perl:5"]), {
        mbs: new MbsClient({ url, retries: 1, retryDelayMs: () => 0 }),
      }),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^cannot reach MBS for .* \(2 attempts\)$/);
  });
});

describe("what resolution needs", () => {
  test("more pages than MAX_MBS_PAGES: refused rather than followed for ever", async () => {
    const client = new MbsClient({ url: mbs.url });
    const err = await failure(client.moduleBuilds({ name: "many", verbose: true, per_page: 1 }));
    expect(err.message).toMatch(/^MBS gave more than 100 pages of module builds for http/);
    expect(err.retryable).toBe(false);
  });

  test("without MBS (and no modular_koji_tags), or Koji-only without a hub: a ComposeError saying so", async () => {
    expect((await failure(resolveModules(request(["a:1"]), {}))).message).toBe(
      "module composes need MBS (ODCS_MBS_URL) or modular_koji_tags, and this server has no MBS configured",
    );
    expect(
      (
        await failure(
          resolveModules(request(["a:1"], { modularKojiTags: ["t"], kojiEvent: 1 }), {}),
        )
      ).message,
    ).toBe(
      "modular_koji_tags need a Koji hub, and this server has none configured (ODCS_KOJI_HUB_URL)",
    );
  });
});
