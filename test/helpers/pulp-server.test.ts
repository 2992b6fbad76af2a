import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "./db.ts";
import { type PulpServer, startPulpServer } from "./pulp-server.ts";

let pulp: PulpServer;
const auth = (user = "odcs", pass = "s3cret") => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
});
const notes = (cs: string, arch: string, extra: Record<string, string> = {}) => ({
  content_set: cs,
  arch,
  relative_url: `content/${cs}/${arch}/os`,
  signatures: "fd431d51,199e2f91",
  product_versions: '["7.9"]',
  include_in_download_service: "True",
  _repo_type: "rpm-repo",
  ...extra,
});

beforeAll(async () => {
  const dir = tempDir("pulp-content-");
  mkdirSync(join(dir, "repodata"), { recursive: true });
  writeFileSync(join(dir, "repodata", "repomd.xml"), "<repomd/>");
  pulp = await startPulpServer({
    pageSize: 2,
    repos: [
      { id: "cs-a__x86_64", notes: notes("cs-a", "x86_64"), dir },
      { id: "cs-a__s390x", notes: notes("cs-a", "s390x") },
      {
        id: "cs-b__x86_64",
        notes: notes("cs-b", "x86_64", { include_in_download_service: "False" }),
      },
      { id: "cs-c__x86_64", notes: notes("cs-c", "x86_64"), undistributed: true },
    ],
  });
});
afterAll(() => pulp.close());

const search = (body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${pulp.url}pulp/api/v2/repositories/search/`, {
    method: "POST",
    body: JSON.stringify(body),
    headers,
  });

describe("Pulp 2", () => {
  test("the search ODCS sends: $in on content sets, published only, fields restricted", async () => {
    const res = await search({
      criteria: {
        filters: {
          "notes.content_set": { $in: ["cs-a", "cs-b", "nope"] },
          "notes.include_in_download_service": "True",
        },
        fields: ["notes", "id"],
      },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; notes: Record<string, string> }[];
    expect(body.map((r) => r.id)).toEqual(["cs-a__x86_64", "cs-a__s390x"]);
    expect(Object.keys(body[0] ?? {}).sort()).toEqual(["_id", "id", "notes"]);
    expect(body[0]?.notes.relative_url).toBe("content/cs-a/x86_64/os");
  });

  test("without the published filter, unpublished repos are found too", async () => {
    const res = await search({
      criteria: { filters: { "notes.content_set": { $in: ["cs-b"] } }, fields: ["notes", "id"] },
    });
    expect(((await res.json()) as { id: string }[]).map((r) => r.id)).toEqual(["cs-b__x86_64"]);
  });

  test("a repo by id: the whole object; an unknown id: 404 naming it", async () => {
    const ok = await fetch(`${pulp.url}pulp/api/v2/repositories/cs-a__s390x/`, { headers: auth() });
    expect(await ok.json()).toMatchObject({
      id: "cs-a__s390x",
      _href: "/pulp/api/v2/repositories/cs-a__s390x/",
      notes: { arch: "s390x" },
    });
    const missing = await fetch(`${pulp.url}pulp/api/v2/repositories/foo-2/`, { headers: auth() });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      http_status: 404,
      error_message: "Missing resource(s): repository=foo-2",
    });
  });

  test("Basic auth: 401 without it and with a wrong password", async () => {
    expect((await search({ criteria: {} }, {})).status).toBe(401);
    const wrong = await search({ criteria: {} }, auth("odcs", "nope"));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ http_status: 401 });
  });
});

describe("Pulp 3", () => {
  interface Page {
    count: number;
    next: string | null;
    previous: string | null;
    results: Record<string, unknown>[];
  }
  const get = async (path: string) => {
    const res = await fetch(path.startsWith("http") ? path : `${pulp.url}${path}`, {
      headers: auth(),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  test("repositories by pulp_label_select, paginated with absolute next links", async () => {
    const first = await get(
      `pulp/api/v3/repositories/rpm/rpm/?pulp_label_select=${encodeURIComponent("content_set~CS-,include_in_download_service=True")}`,
    );
    expect(first.count).toBe(3);
    expect(first.results.map((r) => r.name)).toEqual(["cs-a__x86_64", "cs-a__s390x"]);
    expect(first.previous).toBeNull();
    expect(first.next).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/pulp\/api\/v3\/repositories\/rpm\/rpm\/\?.*offset=2/,
    );
    const second = await get(first.next ?? "");
    expect(second.results.map((r) => r.name)).toEqual(["cs-c__x86_64"]);
    expect(second.next).toBeNull();
    expect(first.results[0]).toMatchObject({
      pulp_labels: { content_set: "cs-a", arch: "x86_64", signatures: "fd431d51,199e2f91" },
    });
    expect(first.results[0]?.pulp_labels).not.toHaveProperty("relative_url");
  });

  test.each([
    ["content_set=cs-b", ["cs-b__x86_64"]],
    ["content_set!=cs-a,arch=x86_64", ["cs-b__x86_64", "cs-c__x86_64"]],
    ["!nothing,arch=s390x,signatures~FD431", ["cs-a__s390x"]],
    ["nothing", []],
  ])("label select %s", async (select, names) => {
    const page = await get(
      `pulp/api/v3/repositories/rpm/rpm/?limit=10&pulp_label_select=${encodeURIComponent(select)}`,
    );
    expect(page.results.map((r) => r.name)).toEqual(names);
  });

  test("distributions of a repository: its base_url; an undistributed repo has none", async () => {
    const repos = await get("pulp/api/v3/repositories/rpm/rpm/?name=cs-a__x86_64");
    const href = String(repos.results[0]?.pulp_href);
    const dists = await get(
      `pulp/api/v3/distributions/rpm/rpm/?repository=${encodeURIComponent(href)}`,
    );
    expect(dists.results).toEqual([
      expect.objectContaining({
        base_path: "content/cs-a/x86_64/os",
        base_url: `${pulp.url}pulp/content/content/cs-a/x86_64/os/`,
        repository: href,
      }),
    ]);
    const hidden = await get("pulp/api/v3/repositories/rpm/rpm/?name=cs-c__x86_64");
    const none = await get(
      `pulp/api/v3/distributions/rpm/rpm/?repository=${encodeURIComponent(String(hidden.results[0]?.pulp_href))}`,
    );
    expect(none.count).toBe(0);
  });

  test("401 without credentials, in Pulp 3's shape", async () => {
    const res = await fetch(`${pulp.url}pulp/api/v3/repositories/rpm/rpm/`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Invalid username/password." });
  });
});

test("content is served without auth at the Pulp 2 and Pulp 3 URLs", async () => {
  for (const path of [
    "content/cs-a/x86_64/os/repodata/repomd.xml",
    "pulp/content/content/cs-a/x86_64/os/repodata/repomd.xml",
  ]) {
    const res = await fetch(`${pulp.url}${path}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("<repomd/>");
  }
  expect((await fetch(`${pulp.url}content/cs-a/x86_64/os/../../../../etc/passwd`)).status).toBe(
    404,
  );
});
