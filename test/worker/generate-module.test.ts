/**
 * The contents of module composes (issue 17 items 3–4), from the module
 * Source through the real pipeline stages into a compose tree, against the
 * protocol-level Koji hub: per arch the content tag's RPMs that the
 * stream's artifacts list, modules.yaml in the repodata (read by
 * libmodulemd and honoured by dnf), modules.json, sigkeys, `packages`,
 * module defaults from a git repository. Streams are given by a resolver
 * written here (module resolution is tested on its own).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ComposeRow, NewComposeRow } from "../../src/db/schema.ts";
import { ComposeError } from "../../src/sources/errors.ts";
import {
  createModuleSource,
  type ModuleResolver,
  type ModuleStreamInput,
} from "../../src/sources/module/index.ts";
import { RepodataCache } from "../../src/sources/repodata-cache.ts";
import type { SourceContext } from "../../src/sources/types.ts";
import { ComposeLog } from "../../src/worker/compose-log.ts";
import { writeComposeTree } from "../../src/worker/pipeline/compose-tree.ts";
import type { GenerateContext } from "../../src/worker/pipeline/generate.ts";
import { selectModuleArches } from "../../src/worker/pipeline/modules.ts";
import { createTestDb, tempDir } from "../helpers/db.ts";
import { dnf, dnfInstall } from "../helpers/dnf.ts";
import { givenCompose } from "../helpers/given.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { modulemdDoc, readWithLibmodulemd } from "../helpers/modulemd.ts";
import { type BuiltRpm, buildRpms } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import { testConfig } from "../helpers/test-app.ts";

const run = promisify(execFile);
const REL1 = "1.module_el8+1+abcdef12";
const REL2 = "1.module_el8+2+bbbbbbbb";

let built: BuiltRpm[];
let key: TestKey;
let model: KojiModel;
let hub: KojiHub;
let defaultsRepo: string;
let db: Awaited<ReturnType<typeof createTestDb>>["db"];

const path = (name: string, release: string) => {
  const b = built.find((x) => x.description.name === name && x.description.release === release);
  if (!b) throw new Error(`not built: ${name} ${release}`);
  return b.path;
};

const mm1: ModuleStreamInput = {
  name: "mm",
  stream: "1",
  version: "20240101000000",
  context: "abcdef12",
  nsvc: "mm:1:20240101000000:abcdef12",
  kojiTag: "module-mm-1-20240101000000-abcdef12",
  modulemd: modulemdDoc({
    name: "mm",
    stream: "1",
    version: "20240101000000",
    context: "abcdef12",
    profile: ["mm-app"],
    rpms: [
      `mm-app-0:1.0-${REL1}.x86_64`,
      `mm-app-0:1.0-${REL1}.aarch64`,
      `mm-app-0:1.0-${REL1}.src`,
      `mm-lib-0:1.0-${REL1}.noarch`,
    ],
  }),
};
const mm2: ModuleStreamInput = {
  name: "mm",
  stream: "2",
  version: "20240202000000",
  context: "bbbbbbbb",
  nsvc: "mm:2:20240202000000:bbbbbbbb",
  kojiTag: "module-mm-2-20240202000000-bbbbbbbb",
  modulemd: "",
  // The build system's arch document (Koji archive modulemd.x86_64.txt) is taken as it is.
  archModulemd: {
    x86_64: modulemdDoc({
      name: "mm",
      stream: "2",
      version: "20240202000000",
      context: "bbbbbbbb",
      arch: "x86_64",
      profile: ["mm-app"],
      rpms: [`mm-app-0:2.0-${REL2}.x86_64`, `mm-lib-0:2.0-${REL2}.noarch`],
    }),
  },
};

beforeAll(async () => {
  [built, key] = await Promise.all([
    buildRpms([
      {
        name: "mm-app",
        version: "1.0",
        release: REL1,
        arch: "x86_64",
        requires: ["mm-lib"],
        files: ["/usr/bin/mm-app"],
      },
      { name: "mm-lib", version: "1.0", release: REL1, files: ["/usr/share/mm-lib/1"] },
      // Tagged into the content tag, but not one of the stream's artifacts.
      { name: "mm-extra", version: "1.0", release: REL1, files: ["/usr/share/mm-extra"] },
      {
        name: "mm-app",
        version: "2.0",
        release: REL2,
        arch: "x86_64",
        requires: ["mm-lib"],
        files: ["/usr/bin/mm-app"],
      },
      { name: "mm-lib", version: "2.0", release: REL2, files: ["/usr/share/mm-lib/2"] },
    ]),
    createTestKey("rsa"),
  ]);
  mm2.modulemd = mm2.archModulemd?.x86_64 ?? "";
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  for (const [tag, release] of [
    [mm1.kojiTag, REL1],
    [mm2.kojiTag, REL2],
  ] as const) {
    model.createTag(tag, { arches: ["x86_64"] });
    for (const p of ["mm-app", "mm-lib", "mm-extra"]) model.addPackage(tag, p);
    const names = release === REL1 ? ["mm-app", "mm-lib", "mm-extra"] : ["mm-app", "mm-lib"];
    const imported = model.importBuilds(names.map((n) => ({ rpms: [path(n, release)] })));
    for (const b of imported) model.tagBuild(tag, b.nvr);
  }
  model.signRpm(`mm-lib-1.0-${REL1}.noarch`, await signRpm(path("mm-lib", REL1), key));
  hub = await startKojiHub(model);
  ({ db } = await createTestDb());

  defaultsRepo = tempDir("odcs-defaults-git-");
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd: defaultsRepo,
    });
  await git("init", "-q", "-b", "main");
  await writeFile(
    join(defaultsRepo, "mm.yaml"),
    "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: mm\n  stream: '1'\n  profiles:\n    '1': [default]\n...\n",
  );
  await writeFile(
    join(defaultsRepo, "other.yaml"),
    "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: other\n  stream: x\n...\n",
  );
  await git("add", ".");
  await git("commit", "-q", "-m", "defaults");
  // A branch whose one YAML file packs to a few KB and inflates to 2 MB.
  await git("checkout", "-q", "--orphan", "bomb");
  await git("rm", "-q", "-r", "--cached", ".");
  await writeFile(join(defaultsRepo, "bomb.yaml"), "# padding\n".repeat(200_000));
  await git("add", "bomb.yaml");
  await git("commit", "-q", "-m", "bomb");
  await git("checkout", "-q", "-f", "main");
  await mkdir(join(defaultsRepo, "big"));
  await writeFile(join(defaultsRepo, "big", "blob.bin"), randomBytes(256 * 1024));
  await git("add", ".");
  await git("commit", "-q", "-m", "big");
}, 180_000);
afterAll(() => hub?.close());

/** Config of the worker: the test hub, files over HTTP, defaults only from the test git repo. */
const config = (extra: Record<string, unknown> = {}) =>
  testConfig({
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ODCS_KOJI_TOPURL: hub.topurl,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_ALLOWED_GIT_URLS: `file://${defaultsRepo}`,
    ...extra,
  });

const resolver =
  (streams: ModuleStreamInput[]): ModuleResolver =>
  async () =>
    streams;

interface Composed {
  row: ComposeRow;
  dir: string;
  repo: string;
  source: string | undefined;
  kojiEvent: number | null;
}

/** resolve → open → select → write the tree, as the generate job does for a `module` compose. */
async function compose(
  streams: ModuleStreamInput[],
  overrides: Partial<NewComposeRow> = {},
  extraConfig: Record<string, unknown> = {},
): Promise<Composed> {
  const row = await givenCompose(db, {
    sourceType: 2,
    source: [...new Set(streams.map((s) => `${s.name}:${s.stream}`))].join(" "),
    sigkeys: "",
    ...overrides,
  });
  const dir = tempDir("odcs-module-compose-");
  const log = new ComposeLog(join(dir, "log"), () => new Date());
  const cfg = config(extraConfig);
  const signal = new AbortController().signal;
  const sctx: SourceContext = {
    config: cfg,
    cache: new RepodataCache(1 << 24),
    signal,
    log: (l) => log.line(l),
  };
  const gctx: GenerateContext = {
    config: cfg,
    cache: sctx.cache,
    log,
    signal,
    now: () => new Date("2026-12-06T12:00:00Z"),
    pinned: [],
  };
  try {
    const source = createModuleSource(resolver(streams));
    const pinned = await source.resolve(row, sctx);
    // Pins are stored as JSON: open must work from the round trip.
    const opened = await source.open(JSON.parse(JSON.stringify(pinned)), sctx);
    if (!opened.modules) throw new Error("a module source opened without modules");
    const selections = await selectModuleArches(
      row,
      opened.repos,
      opened.modules,
      ["x86_64"],
      gctx,
    );
    await writeComposeTree(
      row,
      dir,
      opened.repos,
      selections.map(({ arch, result }) => ({ arch, packages: result.packages })),
      gctx,
      opened.modules,
    );
    return {
      row,
      dir,
      repo: join(dir, "compose/Temporary/x86_64/os"),
      source: opened.source,
      kojiEvent: opened.kojiEvent,
    };
  } finally {
    await log.close();
  }
}

async function modulesYamlOf(repo: string): Promise<string> {
  const repomd = await readFile(join(repo, "repodata/repomd.xml"), "utf8");
  const href = /<data type="modules">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1];
  if (!href) throw new Error("no modules record in repomd.xml");
  return gunzipSync(await readFile(join(repo, href))).toString("utf8");
}

const PLATFORM = ["module_platform_id=platform:el8"];

describe("a module compose of two streams", () => {
  let c: Composed;
  beforeAll(async () => {
    c = await compose([mm1, mm2]);
  }, 120_000);

  test("takes the artifacts of each stream from its content tag at the pinned event, no more", async () => {
    expect(c.kojiEvent).toBe(model.lastEvent());
    expect(c.source).toBe(`${mm1.nsvc} ${mm2.nsvc}`);
    const { stdout } = await run("find", [
      join(c.repo, "Packages"),
      "-name",
      "*.rpm",
      "-printf",
      "%f\n",
    ]);
    expect(stdout.split("\n").filter(Boolean).sort()).toEqual([
      `mm-app-1.0-${REL1}.x86_64.rpm`,
      `mm-app-2.0-${REL2}.x86_64.rpm`,
      `mm-lib-1.0-${REL1}.noarch.rpm`,
      `mm-lib-2.0-${REL2}.noarch.rpm`,
    ]);
  });

  test("modules.yaml holds both streams for x86_64; libmodulemd reads it", async () => {
    const read = await readWithLibmodulemd(await modulesYamlOf(c.repo));
    expect(read.streams).toEqual([
      {
        nsvc: mm1.nsvc,
        arch: "x86_64",
        rpms: [
          `mm-app-0:1.0-${REL1}.src`,
          `mm-app-0:1.0-${REL1}.x86_64`,
          `mm-lib-0:1.0-${REL1}.noarch`,
        ],
      },
      {
        nsvc: mm2.nsvc,
        arch: "x86_64",
        rpms: [`mm-app-0:2.0-${REL2}.x86_64`, `mm-lib-0:2.0-${REL2}.noarch`],
      },
    ]);
    expect(read.defaults).toEqual({});
  });

  test("dnf: module list shows the streams; the modular RPMs are hidden until a stream is enabled; enable + install takes that stream's", async () => {
    const env = { repos: c.repo, setopt: PLATFORM };
    const { stdout } = await dnf(env, ["module", "list"]);
    expect(stdout).toMatch(/^mm\s+1\s+default\s+mm module$/m);
    expect(stdout).toMatch(/^mm\s+2\s+default\s+mm module$/m);
    await expect(dnfInstall(env, ["mm-app"])).rejects.toThrow(
      /filtered out by modular filtering|Unable to find a match: mm-app/,
    );
    const root = join(tempDir("odcs-root-"), "root");
    const inRoot = { ...env, installroot: root };
    await dnf(inRoot, ["module", "enable", "mm:1"]);
    expect(await dnfInstall(inRoot, ["mm-app"])).toEqual([
      `mm-app-1.0-${REL1}.x86_64`,
      `mm-lib-1.0-${REL1}.noarch`,
    ]);
    const root2 = join(tempDir("odcs-root-"), "root");
    await dnf({ ...env, installroot: root2 }, ["module", "enable", "mm:2"]);
    expect(await dnfInstall({ ...env, installroot: root2 }, ["mm-app"])).toEqual([
      `mm-app-2.0-${REL2}.x86_64`,
      `mm-lib-2.0-${REL2}.noarch`,
    ]);
  });

  test("modules.json: per variant, arch and NSVC the Koji tag, modulemd path and RPMs", async () => {
    const json = JSON.parse(await readFile(join(c.dir, "compose/metadata/modules.json"), "utf8"));
    expect(json.header).toEqual({ type: "productmd.modules", version: "1.2" });
    const x86 = json.payload.modules.Temporary.x86_64;
    expect(Object.keys(x86).sort()).toEqual([mm1.nsvc, mm2.nsvc]);
    const href = /<data type="modules">[\s\S]*?<location href="([^"]+)"/.exec(
      await readFile(join(c.repo, "repodata/repomd.xml"), "utf8"),
    )?.[1];
    expect(x86[mm1.nsvc]).toEqual({
      metadata: {
        uid: mm1.nsvc,
        name: "mm",
        stream: "1",
        version: "20240101000000",
        context: "abcdef12",
        koji_tag: mm1.kojiTag,
      },
      modulemd_path: { binary: `Temporary/x86_64/os/${href}` },
      rpms: [`mm-app-0:1.0-${REL1}.x86_64`, `mm-lib-0:1.0-${REL1}.noarch`],
    });
  });
});

describe("request fields", () => {
  test("packages: only those module RPMs; a name no stream has fails the compose", async () => {
    const c = await compose([mm1], { packages: "mm-lib" });
    const { stdout } = await run("find", [
      join(c.repo, "Packages"),
      "-name",
      "*.rpm",
      "-printf",
      "%f\n",
    ]);
    expect(stdout.trim()).toBe(`mm-lib-1.0-${REL1}.noarch.rpm`);
    await expect(compose([mm1], { packages: "mm-extra nope" })).rejects.toThrow(
      "The following requested packages are not present in the generated compose: mm-extra nope.",
    );
  });

  test("sigkeys: the signed copy where there is one; an RPM without one fails naming it", async () => {
    const c = await compose([mm1], { packages: "mm-lib", sigkeys: key.sigkey });
    const { stdout } = await run("rpm", [
      "-qp",
      "--qf",
      "%{SIGGPG:pgpsig} %{SIGPGP:pgpsig} %{DSAHEADER:pgpsig} %{RSAHEADER:pgpsig}",
      join(c.repo, `Packages/m/mm-lib-1.0-${REL1}.noarch.rpm`),
    ]);
    expect(stdout).toContain(key.keyId.slice(-16));
    await expect(compose([mm1], { sigkeys: key.sigkey })).rejects.toThrow(
      new RegExp(
        `no copy signed by an allowed key .*mm-app-1\\.0-${REL1.replace(/\+/g, "\\+")}\\.x86_64`,
      ),
    );
  });

  test("a content tag missing at the event fails with the tag's name", async () => {
    const ghost = { ...mm1, kojiTag: "module-ghost-1-1-00000000" };
    await expect(compose([ghost])).rejects.toThrow(
      new ComposeError("Koji tag module-ghost-1-1-00000000 does not exist"),
    );
  });
});

describe("a -devel module (MBS rule)", () => {
  test("holds the content tag's RPMs that are not its non-devel module's artifacts; dnf sees both streams", async () => {
    const devel: ModuleStreamInput = {
      ...mm1,
      name: "mm-devel",
      nsvc: "mm-devel:1:20240101000000:abcdef12",
      // As MBS resolution rewrites it: renamed, the non-devel module's artifacts still listed.
      modulemd: modulemdDoc({
        name: "mm-devel",
        stream: "1",
        version: "20240101000000",
        context: "abcdef12",
        rpms: [`mm-app-0:1.0-${REL1}.x86_64`, `mm-lib-0:1.0-${REL1}.noarch`],
      }),
      develOf: "mm:1",
    };
    const c = await compose([mm1, devel]);
    const read = await readWithLibmodulemd(await modulesYamlOf(c.repo));
    expect(read.streams).toEqual([
      { nsvc: devel.nsvc, arch: "x86_64", rpms: [`mm-extra-0:1.0-${REL1}.noarch`] },
      expect.objectContaining({ nsvc: mm1.nsvc }),
    ]);
    const env = { repos: c.repo, setopt: PLATFORM };
    await expect(dnfInstall(env, ["mm-extra"])).rejects.toThrow(/mm-extra/);
    const root = join(tempDir("odcs-root-"), "root");
    await dnf({ ...env, installroot: root }, ["module", "enable", "mm-devel:1"]);
    expect(await dnfInstall({ ...env, installroot: root }, ["mm-extra"])).toEqual([
      `mm-extra-1.0-${REL1}.noarch`,
    ]);
  });
});

describe("module defaults from git", () => {
  test("the defaults of the compose's modules go into modules.yaml; dnf installs the default stream without enabling it", async () => {
    const c = await compose([mm1, mm2], { moduleDefaultsUrl: `file://${defaultsRepo} main` });
    const text = await modulesYamlOf(c.repo);
    const read = await readWithLibmodulemd(text);
    expect(read.defaults).toEqual({ mm: "1" });
    expect(text).not.toContain("module: other");
    const file = join(tempDir("odcs-validate-"), "modules.yaml");
    await writeFile(file, text);
    await run("modulemd-validator", [file]);
    expect(await dnfInstall({ repos: c.repo, setopt: PLATFORM }, ["mm-app"])).toEqual([
      `mm-app-1.0-${REL1}.x86_64`,
      `mm-lib-1.0-${REL1}.noarch`,
    ]);
  });

  test("a commit id works as the ref", async () => {
    const { stdout } = await run("git", ["rev-parse", "HEAD~1"], { cwd: defaultsRepo });
    const c = await compose([mm1], {
      moduleDefaultsUrl: `file://${defaultsRepo} ${stdout.trim()}`,
    });
    expect((await readWithLibmodulemd(await modulesYamlOf(c.repo))).defaults).toEqual({ mm: "1" });
  });

  test("a URL outside ODCS_ALLOWED_GIT_URLS, an unknown ref and a repository over the size limit fail with a reason", async () => {
    await expect(compose([mm1], { moduleDefaultsUrl: "file:///etc main" })).rejects.toThrow(
      `module_defaults_url file:///etc is not allowed: not under a prefix of ODCS_ALLOWED_GIT_URLS (file://${defaultsRepo})`,
    );
    await expect(
      compose([mm1], { moduleDefaultsUrl: `file://${defaultsRepo} no-such-branch` }),
    ).rejects.toThrow(/^cannot fetch module defaults file:\/\/.* \(no-such-branch\): /);
    await expect(
      compose(
        [mm1],
        { moduleDefaultsUrl: `file://${defaultsRepo} main` },
        { ODCS_GIT_MAX_BYTES: 64 * 1024 },
      ),
    ).rejects.toThrow(/the repository is larger than ODCS_GIT_MAX_BYTES \(65536 bytes\)$/);
    await expect(
      compose(
        [mm1],
        { moduleDefaultsUrl: `file://${defaultsRepo} bomb` },
        { ODCS_GIT_MAX_BYTES: 512 * 1024 },
      ),
    ).rejects.toThrow(/the YAML files are larger than ODCS_GIT_MAX_BYTES \(524288 bytes\)$/);
  });
});
