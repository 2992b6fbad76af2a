/**
 * Pulp composes through the real API app and real workers (in process,
 * `composeHarness`) against the protocol-level Pulp server: both API
 * generations, every pulp flag, the .repo file byte for byte, the merged
 * repodata case read by dnf, renewal, and failures a person can act on.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ComposeRow } from "../../src/db/schema.ts";
import type { Worker } from "../../src/worker/loop.ts";
import { tempDir } from "../helpers/db.ts";
import { type PulpRepoSpec, type PulpServer, startPulpServer } from "../helpers/pulp-server.ts";
import { buildRpms, createRepo } from "../helpers/rpmbuild.ts";
import { composeHarness, dnfInstallWithRepoFile, freePort } from "../helpers/service.ts";

type Harness = Awaited<ReturnType<typeof composeHarness>>;
let pulp: PulpServer;
let h: Harness;
let p: string; // the Pulp server root, without the trailing slash

const repo = (
  id: string,
  cs: string,
  arch: string,
  relativeUrl: string,
  extra: Partial<Record<string, string>> & { dir?: string } = {},
): PulpRepoSpec => {
  const { dir, ...notes } = extra;
  return {
    id,
    notes: {
      content_set: cs,
      arch,
      relative_url: relativeUrl,
      signatures: "fd431d51,199e2f91",
      product_versions: "",
      include_in_download_service: "True",
      ...(notes as Record<string, string>),
    },
    ...(dir ? { dir } : {}),
  };
};

beforeAll(async () => {
  const built = await buildRpms([
    { name: "pa-app", version: "1.0", release: "1", arch: "x86_64", requires: ["pa-lib"] },
    { name: "pa-lib", version: "1.0", release: "1" },
    { name: "pa-lib", version: "1.1", release: "1" },
  ]);
  const [app, lib10, lib11] = built.map((b) => b.path);
  if (!app || !lib10 || !lib11) throw new Error("rpmbuild built too little");
  const old = await createRepo(tempDir("pulp-bar-1.0-"), [app, lib10]);
  const newer = await createRepo(tempDir("pulp-bar-1.1-"), [lib11]);
  pulp = await startPulpServer({
    // Every Pulp 3 list takes as many pages as it has results: the lookups must follow `next`.
    pageSize: 1,
    repos: [
      repo("foo-1__x86_64", "foo-1", "x86_64", "content/1/x86_64/os"),
      repo("foo-1__ppc64le", "foo-1", "ppc64le", "content/1/ppc64le/os"),
      repo("foo-2__ppc64", "foo-2", "ppc64", "content/3/ppc64/os", { signatures: "aaaa1111" }),
      repo("bar__1.0__x86_64", "bar", "x86_64", "content/bar/1.0/x86_64/os", { dir: old }),
      repo("bar__1.1__x86_64", "bar", "x86_64", "content/bar/1.1/x86_64/os", { dir: newer }),
      repo("baz__1.9", "baz", "x86_64", "content/baz/1.9/x86_64/os", {
        product_versions: '["1.9"]',
      }),
      repo("baz__1.10", "baz", "x86_64", "content/baz/1.10/x86_64/os", {
        product_versions: '["1.10"]',
      }),
      repo("hidden__x86_64", "hidden", "x86_64", "content/hidden/x86_64/os", {
        include_in_download_service: "False",
      }),
      repo("direct__s390x", "other-cs", "s390x", "content/direct/s390x/os"),
      repo("unpub-direct__s390x", "other-cs2", "s390x", "content/unpub/s390x/os", {
        include_in_download_service: "False",
      }),
    ],
  });
  p = pulp.url.replace(/\/$/, "");
  h = await composeHarness({
    ODCS_PULP_URL: pulp.url,
    ODCS_PULP_USERNAME: "odcs",
    ODCS_PULP_PASSWORD: "s3cret",
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ODCS_JOB_MAX_ATTEMPTS: 1,
  });
}, 120_000);
afterAll(async () => {
  await h?.stopAll();
  await pulp?.close();
});

const workers = new Map<string, Worker>();
/** Create a compose and run the queue on a worker with `config` (one worker per config). */
async function compose(
  body: Record<string, unknown>,
  config: Record<string, unknown> = {},
): Promise<ComposeRow> {
  const c = await h.create(body);
  const key = JSON.stringify(config);
  let w = workers.get(key);
  if (!w) {
    w = h.newWorker(`w${workers.size + 1}`, { config });
    workers.set(key, w);
  }
  while ((await w.fill()) > 0) await w.idle();
  return h.row(c.id);
}
const pulpBody = (source: string, flags: string[] = []) => ({
  source: { type: "pulp", source },
  flags,
});
const repoFile = (id: number) =>
  readFileSync(join(h.dir(id), "compose", "Temporary", `odcs-${id}.repo`), "utf8");
const section = (key: string, url: string, skip = false) =>
  `\n[${key}]\nname=${key}\nbaseurl=${url}\nenabled=1\ngpgcheck=0\n${skip ? "skip_if_unavailable=1\n" : ""}`;

describe.each([
  ["2", (rel: string) => `${p}/${rel}`],
  ["3", (rel: string) => `${p}/pulp/content/${rel}`],
])("Pulp %s", (api, url) => {
  test("content sets and a repo id: one .repo section each, arches and sigkeys from the notes", async () => {
    const row = await compose(pulpBody("foo-2 foo-1 direct__s390x baz"), { ODCS_PULP_API: api });
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(repoFile(row.id)).toBe(
      section("baz", url("content/baz/1.10/x86_64/os")) +
        section("direct__s390x", url("content/direct/s390x/os")) +
        section("foo-1", url("content/1/$basearch/os")) +
        section("foo-2", url("content/3/ppc64/os")),
    );
    expect(row).toMatchObject({
      arches: "ppc64 ppc64le s390x x86_64",
      sigkeys: "199e2f91 aaaa1111 fd431d51",
      source: "foo-2 foo-1 direct__s390x baz",
      pungiComposeId: null,
    });
    if (api === "3")
      expect(
        pulp.requests.some(
          (r) => r.path.includes("pulp_label_select") && r.path.includes("offset=1"),
        ),
      ).toBe(true);
    // Nothing is copied: the compose is its .repo file.
    expect(existsSync(join(h.dir(row.id), "compose", "Temporary", "x86_64"))).toBe(false);
    expect(await h.rpms(row.id)).toEqual([]);
  });

  test("use_only_compatible_arch: $basearch for the single arch, skip_if_unavailable=1", async () => {
    const row = await compose(pulpBody("foo-2 foo-1", ["use_only_compatible_arch"]), {
      ODCS_PULP_API: api,
    });
    expect(repoFile(row.id)).toBe(
      section("foo-1", url("content/1/$basearch/os"), true) +
        section("foo-2", url("content/3/$basearch/os"), true),
    );
  });

  test("unpublished repos only with include_unpublished_pulp_repos", async () => {
    const refused = await compose(pulpBody("hidden foo-2"), { ODCS_PULP_API: api });
    expect(refused.stateReason).toBe(
      "Error while generating compose: Failed to find all the source(s) ['hidden', 'foo-2'] in Pulp, found only ['foo-2']",
    );
    const byId = await compose(pulpBody("unpub-direct__s390x"), { ODCS_PULP_API: api });
    expect(byId.stateReason).toBe(
      "Error while generating compose: Failed to find all the source(s) ['unpub-direct__s390x'] in Pulp, found only []",
    );
    const row = await compose(
      pulpBody("hidden unpub-direct__s390x", ["include_unpublished_pulp_repos"]),
      { ODCS_PULP_API: api },
    );
    expect(repoFile(row.id)).toBe(
      section("hidden", url("content/hidden/x86_64/os")) +
        section("unpub-direct__s390x", url("content/unpub/s390x/os")),
    );
  });

  test("ignore_absent_pulp_repos: the absent items are dropped from the source", async () => {
    const row = await compose(pulpBody("nope-1 foo-2 nope-0", ["ignore_absent_pulp_repos"]), {
      ODCS_PULP_API: api,
    });
    expect(row).toMatchObject({ state: 2, source: "foo-2", arches: "ppc64", sigkeys: "aaaa1111" });
    expect(repoFile(row.id)).toBe(section("foo-2", url("content/3/ppc64/os")));
  });
});

test("nothing found with ignore_absent_pulp_repos: an empty .repo file and empty repos per allowed arch", async () => {
  const row = await compose(pulpBody("nope", ["ignore_absent_pulp_repos"]));
  expect(row).toMatchObject({ state: 2, source: "", arches: "x86_64", sigkeys: "" });
  expect(repoFile(row.id)).toBe("");
  const repomd = join(
    h.dir(row.id),
    "compose",
    "Temporary",
    "x86_64",
    "os",
    "repodata",
    "repomd.xml",
  );
  expect(readFileSync(repomd, "utf8")).toContain("<repomd");
});

test("the merged repodata case: mergerepo_c's repo keeps the highest NVR, packages stay on Pulp; dnf installs from it", async () => {
  const row = await compose(pulpBody("bar"));
  const resultRepo = `${h.config.ODCS_TARGET_DIR_URL}/odcs-${row.id}/compose/Temporary`;
  expect(repoFile(row.id)).toBe(section("bar", `${resultRepo}/bar/$basearch`));
  expect(row).toMatchObject({ state: 2, arches: "x86_64", sigkeys: "199e2f91 fd431d51" });
  const merged = join(h.dir(row.id), "compose", "Temporary", "bar", "x86_64", "repodata");
  expect(existsSync(join(merged, "repomd.xml"))).toBe(true);
  // The compose is not served over HTTP here: point dnf at the files; the packages come from Pulp.
  const installed = await dnfInstallWithRepoFile(repoFile(row.id), ["pa-app"], {
    rewrite: [h.config.ODCS_TARGET_DIR_URL, `file://${h.target}`],
  });
  expect(installed).toEqual(["pa-app-0:1.0-1.x86_64", "pa-lib-0:1.1-1.noarch"]);
  const fetched = pulp.requests.filter((r) => r.path.endsWith(".rpm")).map((r) => r.path);
  expect(fetched.sort()).toEqual([
    "/content/bar/1.0/x86_64/os/pa-app-1.0-1.x86_64.rpm",
    "/content/bar/1.1/x86_64/os/pa-lib-1.1-1.noarch.rpm",
  ]);
  // A second merge of unchanged repos reads only their repomd.xml from Pulp.
  const before = pulp.requests.length;
  await compose(pulpBody("bar"));
  const again = pulp.requests.slice(before).filter((r) => r.path.includes("/repodata/"));
  expect(again.map((r) => r.path).sort()).toEqual([
    "/content/bar/1.0/x86_64/os/repodata/repomd.xml",
    "/content/bar/1.1/x86_64/os/repodata/repomd.xml",
  ]);
});

describe("failures say what to do", () => {
  test("an absent content set fails naming what was found", async () => {
    const row = await compose(pulpBody("foo-1 nope"));
    expect(row.stateReason).toBe(
      "Error while generating compose: Failed to find all the source(s) ['foo-1', 'nope'] in Pulp, found only ['foo-1']",
    );
  });

  test("wrong credentials: the 401 and the settings to check", async () => {
    const row = await compose(pulpBody("foo-1"), { ODCS_PULP_PASSWORD: "wrong" });
    expect(row.stateReason).toBe(
      `Error while generating compose: Pulp answered HTTP 401 to POST ${p}/pulp/api/v2/repositories/search/: check ODCS_PULP_USERNAME and ODCS_PULP_PASSWORD`,
    );
  });

  test("Pulp down: the connection failure and the URL", async () => {
    const down = `http://127.0.0.1:${await freePort()}/`;
    const row = await compose(pulpBody("foo-1"), { ODCS_PULP_URL: down });
    expect(row.stateReason).toMatch(
      new RegExp(
        `^Error while generating compose: Pulp connection has failed: POST ${down}pulp/api/v2/repositories/search/: ECONNREFUSED`,
      ),
    );
  });
});

test("pulp composes are never reused, and a renewal resolves against Pulp afresh", async () => {
  const a = await compose(pulpBody("foo-2"));
  const b = await compose(pulpBody("foo-2"));
  expect([a.state, b.state, b.reusedId]).toEqual([2, 2, null]);
  expect(existsSync(h.dir(b.id))).toBe(true);
  const failed = await compose(pulpBody("late-cs"));
  expect(failed.state).toBe(4);
  pulp.repos.push(repo("late-cs__x86_64", "late-cs", "x86_64", "content/late/x86_64/os"));
  try {
    const res = await h.app.request(`/api/1/composes/${failed.id}`, {
      method: "PATCH",
      body: "{}",
    });
    const renewed = (await res.json()) as { id: number };
    expect(res.status).toBe(200);
    expect(renewed.id).not.toBe(failed.id);
    const w = workers.get("{}");
    if (!w) throw new Error("no default worker");
    while ((await w.fill()) > 0) await w.idle();
    expect((await h.row(renewed.id)).state).toBe(2);
    expect(repoFile(renewed.id)).toBe(section("late-cs", `${p}/content/late/x86_64/os`));
  } finally {
    pulp.repos.pop();
  }
});

describe("requests the API refuses (400, nothing stored)", () => {
  const post = async (body: unknown) => {
    const res = await h.postJson("/api/1/composes/", body);
    return { status: res.status, body: await res.json() };
  };
  test.each([
    [{ source: { type: "pulp", source: "" } }, "No source provided for 4"],
    [
      { source: { type: "pulp", source: "foo-1", packages: ["bash"] } },
      '"packages" does nothing for "pulp" composes (they point at Pulp repositories as published); leave it out',
    ],
    [
      { source: { type: "pulp", source: "foo-1  foo-2" } },
      "Empty content set or repo id: source items are separated by single spaces, with none before or after",
    ],
    [
      { source: { type: "pulp", source: "foo-1" }, flags: ["no_deps"] },
      'Flag "no_deps" is not supported yet for source type "pulp"',
    ],
    [
      { source: { type: "pulp", source: "foo=1" } },
      "Only alphanumerical characters and [' ', '-', '/', '_', '.', ':', '#', '+', '?', '$', '~'] characters are allowed in ODCS input variables",
    ],
  ])("%j → 400", async (body, message) => {
    expect(await post(body)).toEqual({
      status: 400,
      body: { status: 400, error: "Bad Request", message },
    });
  });

  test("without ODCS_PULP_URL a pulp compose is a 400, not a failed compose", async () => {
    const bare = await composeHarness({});
    try {
      const res = await bare.postJson("/api/1/composes/", pulpBody("foo-1"));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        status: 400,
        error: "Bad Request",
        message:
          'Source type "pulp" is not supported by this server: no Pulp server is configured (ODCS_PULP_URL)',
      });
      expect((await bare.request("/api/1/composes/")).status).toBe(200);
    } finally {
      await bare.stopAll();
    }
  });
});
