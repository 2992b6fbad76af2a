/**
 * `pungi_compose` composes made by the real worker: the variant's
 * productmd metadata read over HTTP (a static server of the target dir and
 * of a hand-written Pungi compose), the same NEVRAs with the same signed
 * copies taken from the protocol-level Koji hub. Round trip: one of our
 * composes is the source of another, NEVRA by NEVRA; a renewal after both
 * are removed regenerates from the pins.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { ComposeRpmRow } from "../../src/db/schema.ts";
import { expireComposes } from "../../src/sweep/expire.ts";
import { productmdText } from "../../src/worker/pipeline/metadata.ts";
import { tempDir } from "../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { type BuiltRpm, buildRpms, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import { composeHarness, dnfInstallWithRepoFile, repoServer } from "../helpers/service.ts";

const DESCS: RpmDescription[] = [
  {
    name: "pc-app",
    version: "1.0",
    release: "1",
    arch: "x86_64",
    requires: ["pc-lib"],
    files: ["/usr/bin/pc-app"],
  },
  { name: "pc-lib", version: "1.0", release: "1", files: ["/usr/share/pc-lib"], buildSrpm: true },
  { name: "pc-doc", version: "2.0", release: "3", epoch: 2, files: ["/usr/share/doc/pc-doc"] },
  { name: "pc-other", version: "1.0", release: "1", files: ["/usr/share/pc-other"] },
];

let built: BuiltRpm[];
let key: TestKey;
let model: KojiModel;
let hub: KojiHub;
/** Serves the harness's target dir at /composes and hand-written composes at /pungi. */
let site: Awaited<ReturnType<typeof repoServer>>;
let siteDir: string;
let h: Awaited<ReturnType<typeof composeHarness>>;

const rpmOf = (name: string) => {
  const b = built.find((x) => x.description.name === name);
  if (!b) throw new Error(`not built: ${name}`);
  return b;
};

beforeAll(async () => {
  [built, key] = await Promise.all([buildRpms(DESCS), createTestKey("rsa")]);
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  const srpm = rpmOf("pc-lib").srpmPath;
  if (!srpm) throw new Error("pc-lib was built without its SRPM");
  model.importBuilds([
    { rpms: [rpmOf("pc-app").path] },
    { rpms: [rpmOf("pc-lib").path, srpm] },
    { rpms: [rpmOf("pc-doc").path] },
    { rpms: [rpmOf("pc-other").path] },
  ]);
  // pc-lib: signed copy written; pc-doc: signed too, but composes below take it unsigned.
  model.signRpm("pc-lib-1.0-1.noarch", await signRpm(rpmOf("pc-lib").path, key));
  model.signRpm("pc-doc-2.0-3.noarch", await signRpm(rpmOf("pc-doc").path, key));
  hub = await startKojiHub(model);
  siteDir = tempDir("pungi-site-");
  await mkdir(join(siteDir, "pungi"), { recursive: true });
  site = await repoServer(siteDir);
  h = await composeHarness({
    ODCS_TARGET_DIR: target(),
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ODCS_KOJI_TOPURL: hub.topurl,
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_ALLOWED_REPO_URLS: `${site.url}/composes/,${site.url}/pungi/`,
  });
}, 180_000);
afterAll(async () => {
  await h?.stopAll();
  await site?.close();
  await hub?.close();
});

const rows = (rs: ComposeRpmRow[]) =>
  rs
    .map(
      (r) => `${r.treeArch} ${r.name}-${r.epoch}:${r.version}-${r.release}.${r.arch} ${r.sigkey}`,
    )
    .sort();

/** The harness's ODCS_TARGET_DIR (served at /composes), and a compose's dir in it. */
const target = () => join(siteDir, "composes");
const dirOf = (id: number) => join(target(), `odcs-${id}`);

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8")) as unknown;

/** A hand-written Pungi compose `<id>` under /pungi with this rpms.json payload for its variants. */
async function pungiCompose(
  id: string,
  rpms: unknown,
  opts: { composeInfo?: unknown; rpmsText?: string } = {},
): Promise<string> {
  const dir = join(siteDir, "pungi", id, "compose", "metadata");
  await mkdir(dir, { recursive: true });
  const compose = { date: "20261201", id, respin: 0, type: "production" };
  await writeFile(
    join(dir, "rpms.json"),
    opts.rpmsText ??
      JSON.stringify({
        header: { type: "productmd.rpms", version: "1.2" },
        payload: { compose, rpms },
      }),
  );
  await writeFile(
    join(dir, "composeinfo.json"),
    JSON.stringify(
      opts.composeInfo ?? {
        header: { type: "productmd.composeinfo", version: "1.2" },
        payload: { compose: { ...compose, final: true }, variants: {} },
      },
    ),
  );
  return `${site.url}/pungi/${id}/compose`;
}

const pungi = (source: string, top: Record<string, unknown> = {}) => ({
  source: { type: "pungi_compose", source },
  ...top,
});

describe("one of our composes as the source of another", () => {
  test("the same NEVRAs, tree arches and signed copies; arches, builds, packages and sigkeys copied; dnf installs it", async () => {
    const first = await h.run({
      source: {
        type: "build",
        builds: ["pc-app-1.0-1", "pc-lib-1.0-1", "pc-doc-2.0-3"],
        sigkeys: [key.sigkey, ""],
      },
      arches: ["x86_64", "aarch64"],
      flags: ["no_reuse"],
    });
    expect(first.stateReason).toBe("Compose is generated successfully");
    const original = rows(await h.rpms(first.id));
    expect(original).toEqual([
      `aarch64 pc-doc-2:2.0-3.noarch ${key.sigkey}`,
      `aarch64 pc-lib-0:1.0-1.noarch ${key.sigkey}`,
      "x86_64 pc-app-0:1.0-1.x86_64 null",
      `x86_64 pc-doc-2:2.0-3.noarch ${key.sigkey}`,
      `x86_64 pc-lib-0:1.0-1.noarch ${key.sigkey}`,
    ]);

    // Asked for s390x: the variant's arches replace it, and no s390x dir is left behind.
    const variantUrl = `${site.url}/composes/odcs-${first.id}/compose/Temporary/`;
    const second = await h.run(pungi(variantUrl, { arches: ["s390x"] }));
    expect(second.stateReason).toBe("Compose is generated successfully");
    expect(rows(await h.rpms(second.id))).toEqual(original);
    const meta = (id: number, f: string) => join(dirOf(id), "compose", "metadata", f);
    const rpmsOf = async (id: number) =>
      ((await readJson(meta(id, "rpms.json"))) as { payload: { rpms: unknown } }).payload.rpms;
    expect(await rpmsOf(second.id)).toEqual(await rpmsOf(first.id));
    for (const f of ["rpms.json", "composeinfo.json"]) {
      const text = await readFile(meta(second.id, f), "utf8");
      expect(text).toBe(productmdText(JSON.parse(text)));
    }
    expect(
      await readFile(join(dirOf(second.id), "compose/Temporary/s390x"), "utf8").catch(
        (e) => e.code,
      ),
    ).toBe("ENOENT");
    const json = await h.get(second.id);
    expect(json).toMatchObject({
      source_type: 7,
      source: variantUrl,
      arches: "aarch64 x86_64",
      builds: "pc-app-1.0-1 pc-doc-2.0-3 pc-lib-1.0-1",
      packages: "pc-app pc-doc pc-lib",
      sigkeys: `${key.sigkey} `,
    });
    const composeId = (
      (await readJson(meta(first.id, "composeinfo.json"))) as {
        payload: { compose: { id: string } };
      }
    ).payload.compose.id;
    expect(JSON.parse((await h.row(second.id)).sourcePins ?? "null")).toMatchObject({
      composeId,
      variant: "Temporary",
    });
    const repoFile = await readFile(
      join(dirOf(second.id), `compose/Temporary/odcs-${second.id}.repo`),
      "utf8",
    );
    const installed = await dnfInstallWithRepoFile(repoFile, ["pc-app"], {
      rewrite: ["http://localhost/odcs", `file://${target()}`],
    });
    expect(installed.sort()).toEqual(["pc-app-0:1.0-1.x86_64", "pc-lib-0:1.0-1.noarch"]);

    // Both removed (the metadata is gone with the first); renewing the second regenerates it from its pins.
    for (const id of [first.id, second.id])
      expect((await h.request(`/api/1/composes/${id}`, { method: "DELETE" })).status).toBe(202);
    h.clock.advance(1);
    await expireComposes({
      db: h.db,
      now: () => h.clock.now(),
      log: silentLogger,
      targetDir: target(),
    });
    const res = await h.request(`/api/1/composes/${second.id}`, {
      method: "PATCH",
      body: "{}",
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(200);
    const copy = (await res.json()) as { id: number };
    const w = h.newWorker();
    while ((await w.fill()) > 0) await w.idle();
    expect((await h.row(copy.id)).stateReason).toBe("Compose is generated successfully");
    expect(rows(await h.rpms(copy.id))).toEqual(original);
  });
});

describe("a Pungi compose's metadata", () => {
  test("a Server variant with SRPM groups, epochs and sigkeys: every listed RPM, each from its key", async () => {
    const compose = await pungiCompose("Ext-1-20261201.0", {
      Server: {
        x86_64: {
          "pc-lib-0:1.0-1.src": {
            "pc-lib-0:1.0-1.src": {
              category: "source",
              path: "Server/source/tree/Packages/p/pc-lib-1.0-1.src.rpm",
              sigkey: null,
            },
            "pc-lib-0:1.0-1.noarch": {
              category: "binary",
              path: "Server/x86_64/os/Packages/p/pc-lib-1.0-1.noarch.rpm",
              sigkey: key.sigkey.toUpperCase(),
            },
          },
          "pc-doc-2:2.0-3.src": {
            "pc-doc-2:2.0-3.noarch": {
              category: "binary",
              path: "Server/x86_64/os/Packages/p/pc-doc-2.0-3.noarch.rpm",
              sigkey: null,
            },
          },
        },
      },
      Client: { x86_64: {} },
    });
    const row = await h.run(pungi(`${compose}/Server`));
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(rows(await h.rpms(row.id))).toEqual([
      "x86_64 pc-doc-2:2.0-3.noarch null",
      `x86_64 pc-lib-0:1.0-1.noarch ${key.sigkey}`,
      "x86_64 pc-lib-0:1.0-1.src null",
    ]);
    expect(row.builds).toBe("pc-doc-2.0-3 pc-lib-1.0-1");
    expect(row.packages).toBe("pc-doc pc-lib");
    expect(row.arches).toBe("x86_64");
  });

  test.each([
    [
      "NEVRAs Koji lacks are listed",
      async () =>
        pungiCompose("Ext-2-20261201.0", {
          Server: {
            x86_64: {
              "pc-lib-0:1.0-1.src": {
                "pc-lib-0:1.0-1.noarch": { category: "binary", path: "a", sigkey: null },
                "pc-lib-0:1.0-1.x86_64": { category: "binary", path: "b", sigkey: null },
              },
              "pc-ghost-0:9-1.src": {
                "pc-ghost-0:9-1.noarch": { category: "binary", path: "c", sigkey: null },
              },
            },
          },
        }),
      "Server",
      /Koji lacks 2 of the 3 RPMs http:\/\/127\.0\.0\.1:\d+\/pungi\/Ext-2-20261201\.0\/compose\/Server\/ lists: pc-ghost-0:9-1\.noarch, pc-lib-0:1\.0-1\.x86_64 \(build pc-ghost-9-1 is unknown to the Koji hub\)$/,
    ],
    [
      "a key the RPM has no signed copy for",
      async () =>
        pungiCompose("Ext-3-20261201.0", {
          Server: {
            x86_64: {
              "pc-other-0:1.0-1.src": {
                "pc-other-0:1.0-1.noarch": { category: "binary", path: "a", sigkey: "deadbeef" },
              },
            },
          },
        }),
      "Server",
      /no copy signed by an allowed key .*pc-other-1\.0-1\.noarch \(keys deadbeef: no signed copy for deadbeef|no signature recorded\)/,
    ],
    [
      "a variant the metadata lacks (ODCS's message)",
      async () => pungiCompose("Ext-4-20261201.0", { Server: { x86_64: {} } }),
      "Workstation",
      /The http:\/\/127\.0\.0\.1:\d+\/pungi\/Ext-4-20261201\.0\/compose\/metadata\/rpms\.json does not contain payload -> rpms -> Workstation section$/,
    ],
    [
      "no compose there",
      async () => `${site.url}/pungi/Nothing-1/compose`,
      "Server",
      /rpms\.json does not exist \(HTTP 404\): the source must be the URL of a variant of a Pungi compose/,
    ],
    [
      "rpms.json that is not JSON",
      async () => pungiCompose("Ext-5-20261201.0", {}, { rpmsText: "{not json" }),
      "Server",
      /rpms\.json is not valid JSON/,
    ],
    [
      "rpms.json of another kind",
      async () =>
        pungiCompose(
          "Ext-6-20261201.0",
          {},
          {
            rpmsText: JSON.stringify({
              header: { type: "productmd.images", version: "1.2" },
              payload: {},
            }),
          },
        ),
      "Server",
      /rpms\.json is not productmd rpms metadata: payload path header -> type: /,
    ],
    [
      "a NEVRA productmd cannot parse",
      async () =>
        pungiCompose("Ext-7-20261201.0", {
          Server: {
            x86_64: {
              "pc-lib-0:1.0-1.src": { "pc-lib": { category: "binary", path: "a", sigkey: null } },
            },
          },
        }),
      "Server",
      /rpms\.json has entries that are not productmd NEVRAs or short key ids: RPM "pc-lib"$/,
    ],
  ])("%s: the compose fails saying so", async (_name, make, variant, reason) => {
    const compose = await make();
    const row = await h.run(pungi(`${compose}/${variant}/`));
    expect(row.state).toBe(4);
    expect(row.stateReason).toMatch(reason);
  });
});

test("rpms.json larger than ODCS_MAX_PUNGI_METADATA_BYTES: the compose fails naming the setting", async () => {
  const compose = await pungiCompose("Ext-8-20261201.0", {
    Server: {
      x86_64: {
        "pc-lib-0:1.0-1.src": {
          "pc-lib-0:1.0-1.noarch": { category: "binary", path: "x".repeat(2048), sigkey: null },
        },
      },
    },
  });
  const small = await composeHarness({
    ...h.config,
    ODCS_TARGET_DIR: tempDir("odcs-target-"),
    ODCS_MAX_PUNGI_METADATA_BYTES: 1024,
  });
  const row = await small.run(pungi(`${compose}/Server`));
  expect(row.stateReason).toMatch(
    /Ext-8-20261201\.0\/compose\/metadata\/rpms\.json is larger than 1024 bytes \(ODCS_MAX_PUNGI_METADATA_BYTES\)$/,
  );
  await small.stopAll();
});

describe("the request", () => {
  const post = async (body: unknown) => {
    const res = await h.postJson("/api/1/composes/", body);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const refused = (message: string) => ({
    status: 400,
    body: { status: 400, error: "Bad Request", message },
  });

  test.each([
    [
      "outside the allowed prefixes",
      () => pungi("http://elsewhere.example/compose/Server/"),
      () =>
        `Repository URL "http://elsewhere.example/compose/Server/" is not under an allowed URL prefix (${site.url}/composes/, ${site.url}/pungi/)`,
    ],
    [
      "a path",
      () => pungi("/mnt/compose/Server"),
      () =>
        'A "pungi_compose" source must be the http(s) URL of a variant of a Pungi compose (…/compose/<Variant>/), not "/mnt/compose/Server"',
    ],
    [
      "a variant whose metadata is outside the prefixes",
      () => pungi(`${site.url}/pungi/`),
      () =>
        `The metadata of "${site.url}/pungi/" (${site.url}/metadata/) is not under an allowed URL prefix (${site.url}/composes/, ${site.url}/pungi/)`,
    ],
    [
      "two URLs",
      () => pungi(`${site.url}/pungi/a/Server ${site.url}/pungi/b/Server`),
      () =>
        `A "pungi_compose" compose takes one variant URL in "source", not 2: ${site.url}/pungi/a/Server ${site.url}/pungi/b/Server`,
    ],
    [
      "builds",
      () => ({
        source: { type: "pungi_compose", source: `${site.url}/pungi/a/Server`, builds: ["x-1-1"] },
      }),
      () =>
        'A "pungi_compose" compose takes its builds from the compose\'s rpms.json; leave "builds" out',
    ],
    [
      "lookaside repos",
      () => pungi(`${site.url}/pungi/a/Server`, { lookaside_repos: [`${site.url}/pungi/r`] }),
      () =>
        'A "pungi_compose" compose takes exactly the RPMs of the compose\'s rpms.json, solving nothing; leave "lookaside_repos" out',
    ],
  ])("%s: 400, nothing stored", async (_name, body, message) => {
    const count = async () =>
      ((await (await h.request("/api/1/composes/")).json()) as { meta: { total: number } }).meta
        .total;
    const before = await count();
    expect(await post(body())).toEqual(refused(message()));
    expect(await count()).toBe(before);
  });
});
