/**
 * The whole service (`src/main.ts` in its own process) composing from the
 * protocol-level test hub over HTTP only: a tag with an inherited parent and
 * a signed copy, installed by dnf from the .repo URL the service hands out;
 * a build compose naming an NVR the hub does not know fails saying so.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { buildRpms } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import {
  type ComposeJson,
  dnfInstallWithRepoFile,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";

let hub: KojiHub;
let model: KojiModel;
let svc: ServiceProcess;
let key: TestKey;

beforeAll(async () => {
  const [built, k] = await Promise.all([
    buildRpms([
      {
        name: "ke-app",
        version: "2.0",
        release: "1",
        arch: "x86_64",
        requires: ["ke-lib"],
        files: ["/usr/bin/ke-app"],
      },
      { name: "ke-lib", version: "1.0", release: "3", files: ["/usr/share/ke-lib"] },
    ]),
    createTestKey("rsa"),
  ]);
  key = k;
  const [app, lib] = built.map((b) => b.path);
  if (!app || !lib) throw new Error("rpmbuild built too little");
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("ke-base");
  model.createTag("ke-f40", { arches: ["x86_64"] });
  model.addInheritance("ke-f40", "ke-base", 10);
  model.addPackage("ke-base", "ke-app");
  model.addPackage("ke-base", "ke-lib");
  model.importBuilds([{ rpms: [app] }, { rpms: [lib] }]);
  model.tagBuild("ke-f40", "ke-app-2.0-1");
  model.tagBuild("ke-base", "ke-lib-1.0-3");
  model.signRpm("ke-lib-1.0-3.noarch", await signRpm(lib, key));
  hub = await startKojiHub(model);
  svc = await startService({
    env: {
      ODCS_KOJI_HUB_URL: hub.hubUrl,
      ODCS_KOJI_TOPURL: hub.topurl,
      ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    },
  });
}, 120_000);
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
  await hub?.close();
});

async function compose(body: unknown): Promise<ComposeJson> {
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  const waited = await fetch(`${svc.url}/api/1/composes/${created.id}/wait?state=done&timeout=60`);
  return (await waited.json()) as ComposeJson;
}

test("a tag compose, pinned to the hub's last event, installs with dnf over HTTP", async () => {
  const done = await compose({
    source: { type: "tag", source: "ke-f40", packages: ["ke-app"], sigkeys: [key.sigkey, ""] },
  });
  expect(done).toMatchObject({
    state_name: "done",
    source_type: 1,
    source: "ke-f40",
    koji_event: model.lastEvent(),
  });
  const repoFile = await (await fetch(done.result_repofile)).text();
  expect(repoFile).toContain(
    `baseurl=${svc.url}/composes/odcs-${done.id}/compose/Temporary/$basearch/os\n`,
  );
  const installed = await dnfInstallWithRepoFile(repoFile, ["ke-app"]);
  expect(installed.sort()).toEqual(["ke-app-0:2.0-1.x86_64", "ke-lib-0:1.0-3.noarch"]);
  const meta = (await (
    await fetch(`${svc.url}/composes/odcs-${done.id}/compose/metadata/rpms.json`)
  ).json()) as {
    payload: {
      rpms: Record<
        string,
        Record<string, Record<string, Record<string, { sigkey: string | null }>>>
      >;
    };
  };
  const sigkeys = Object.values(meta.payload.rpms.Temporary?.x86_64 ?? {}).flatMap((byNevra) =>
    Object.entries(byNevra).map(([nevra, r]) => [nevra.split(":")[0], r.sigkey]),
  );
  expect(sigkeys).toContainEqual(["ke-lib-0", key.sigkey]);
});

test("a build compose with an NVR the hub does not know fails naming it", async () => {
  const failed = await compose({
    source: { type: "build", builds: ["ke-app-2.0-1", "ke-gone-1-1"] },
  });
  expect(failed).toMatchObject({
    state_name: "failed",
    state_reason:
      "Error while generating compose: Cannot compose the requested builds; unknown to the Koji hub: ke-gone-1-1",
  });
});
