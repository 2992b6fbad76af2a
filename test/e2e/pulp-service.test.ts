/**
 * The whole service (`src/main.ts` in its own process) making pulp composes
 * against the protocol-level Pulp server in both API modes: the .repo file
 * it serves at `result_repofile` is exactly ODCS's, and dnf, configured by
 * nothing but that file, installs from the repos it points at (real
 * repodata and RPMs the Pulp server publishes, and a merged repo the
 * service serves).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import { type PulpRepoSpec, type PulpServer, startPulpServer } from "../helpers/pulp-server.ts";
import { buildRpms, createRepo } from "../helpers/rpmbuild.ts";
import {
  type ComposeJson,
  dnfInstallWithRepoFile,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";

let pulp: PulpServer;
const svc: Record<"2" | "3", ServiceProcess | undefined> = { "2": undefined, "3": undefined };

const repo = (cs: string, arch: string, rel: string, dir?: string): PulpRepoSpec => ({
  id: `${cs}__${rel.replace(/\//g, "_")}`,
  notes: {
    content_set: cs,
    arch,
    relative_url: rel,
    signatures: "fd431d51",
    product_versions: "",
    include_in_download_service: "True",
  },
  ...(dir ? { dir } : {}),
});

beforeAll(async () => {
  const built = await buildRpms([
    { name: "ps-app", version: "2.0", release: "1", arch: "x86_64", requires: ["ps-lib >= 1.1"] },
    { name: "ps-lib", version: "1.0", release: "1" },
    { name: "ps-lib", version: "1.1", release: "1" },
    { name: "ps-extra", version: "1.0", release: "1" },
  ]);
  const [app, lib10, lib11, extra] = built.map((b) => b.path);
  if (!app || !lib10 || !lib11 || !extra) throw new Error("rpmbuild built too little");
  const [appRepo, libsRepo, mergeA, mergeB] = await Promise.all([
    createRepo(tempDir("ps-app-"), [app, lib10]),
    createRepo(tempDir("ps-libs-"), [lib11]),
    createRepo(tempDir("ps-m1-"), [extra, lib10]),
    createRepo(tempDir("ps-m2-"), [lib11]),
  ]);
  pulp = await startPulpServer({
    username: "svc",
    password: "pw",
    repos: [
      repo("ps-app", "x86_64", "content/app/x86_64/os", appRepo),
      repo("ps-app", "ppc64le", "content/app/ppc64le/os"),
      repo("ps-libs", "x86_64", "content/libs/x86_64/os", libsRepo),
      repo("ps-merged", "x86_64", "content/merged/a/x86_64/os", mergeA),
      repo("ps-merged", "x86_64", "content/merged/b/x86_64/os", mergeB),
    ],
  });
  const start = (api: "2" | "3") =>
    startService({
      env: {
        ODCS_PULP_URL: pulp.url,
        ODCS_PULP_USERNAME: "svc",
        ODCS_PULP_PASSWORD: "pw",
        ODCS_PULP_API: api,
        ODCS_CACHE_DIR: tempDir("odcs-cache-"),
      },
    });
  [svc["2"], svc["3"]] = await Promise.all([start("2"), start("3")]);
}, 120_000);
afterAll(async () => {
  expect(await svc["2"]?.stop()).toBe(0);
  expect(await svc["3"]?.stop()).toBe(0);
  await pulp?.close();
});

async function compose(s: ServiceProcess, body: unknown): Promise<ComposeJson> {
  const res = await fetch(`${s.url}/api/1/composes/`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  const waited = await fetch(`${s.url}/api/1/composes/${created.id}/wait?state=done&timeout=60`);
  return (await waited.json()) as ComposeJson;
}

const section = (key: string, url: string) =>
  `\n[${key}]\nname=${key}\nbaseurl=${url}\nenabled=1\ngpgcheck=0\n`;

test.each(["2", "3"] as const)(
  "Pulp %s: two content sets; dnf installs across both from the served .repo file",
  async (api) => {
    const s = svc[api];
    if (!s) throw new Error("service not started");
    const done = await compose(s, { source: { type: "pulp", source: "ps-libs ps-app" } });
    expect(done).toMatchObject({
      state_name: "done",
      state_reason: "Compose is generated successfully",
      source_type: 4,
      source: "ps-libs ps-app",
      arches: "ppc64le x86_64",
      sigkeys: "fd431d51",
    });
    const base = api === "2" ? pulp.url : `${pulp.url}pulp/content/`;
    const text = await (await fetch(done.result_repofile)).text();
    expect(text).toBe(
      section("ps-app", `${base}content/app/$basearch/os`) +
        section("ps-libs", `${base}content/libs/x86_64/os`),
    );
    const installed = await dnfInstallWithRepoFile(text, ["ps-app"]);
    expect(installed).toEqual(["ps-app-0:2.0-1.x86_64", "ps-lib-0:1.1-1.noarch"]);
  },
);

test("a merged content set is served by the service; its packages come from Pulp", async () => {
  const s = svc["2"];
  if (!s) throw new Error("service not started");
  const done = await compose(s, { source: { type: "pulp", source: "ps-merged" } });
  expect(done.state_name).toBe("done");
  const text = await (await fetch(done.result_repofile)).text();
  expect(text).toBe(section("ps-merged", `${done.result_repo}/ps-merged/$basearch`));
  const installed = await dnfInstallWithRepoFile(text, ["ps-extra", "ps-lib"]);
  expect(installed).toEqual(["ps-extra-0:1.0-1.noarch", "ps-lib-0:1.1-1.noarch"]);
});
