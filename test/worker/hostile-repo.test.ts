/**
 * Hostile repositories end to end in process: a repository the operator
 * allows names, in its metadata, locations elsewhere (another server, a
 * path outside the allowed roots, `../` and encoded escapes, symlinks) or
 * is a decompression bomb. The compose fails with a reason naming the
 * package (or file) and the location, and the other server never sees a
 * request.
 */
import { mkdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import {
  bomb,
  copyOfRepo,
  editPrimary,
  type Packing,
  relocate,
  replaceMetadata,
} from "../helpers/hostile-repo.ts";
import { composeHarness, repoServer } from "../helpers/service.ts";

const ABCDE = "abcde-2.9.2-1.fc29.noarch";
const ABCDE_HREF = `noarch/${ABCDE}.rpm`;

/** …/allowed/ is the allowed root; …/outside/ is not. */
const base = tempDir("odcs-hostile-");
const allowed = join(base, "allowed");
const outside = join(base, "outside");
/** Served by `site`: …/site/repo/ is the allowed URL prefix, …/site/secret/ is not. */
const siteDir = join(base, "site");

let site: Awaited<ReturnType<typeof repoServer>>;
let elsewhere: Awaited<ReturnType<typeof repoServer>>;
let h: Awaited<ReturnType<typeof composeHarness>>;
let remoteCount = 0;

/** A copy of the fixture repo served at `${site.url}/<name>/`, after `edit`. */
async function remoteRepo(edit?: (dir: string) => Promise<void>): Promise<string> {
  const name = `repo/r${++remoteCount}`;
  const dir = await copyOfRepo(undefined, join(siteDir, name));
  await edit?.(dir);
  return `${site.url}/${name}/`;
}

async function localRepo(name: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = await copyOfRepo(undefined, join(allowed, name));
  await edit?.(dir);
  return dir;
}

async function failedReason(source: string, extra: Record<string, unknown> = {}) {
  const row = await h.run({ source: { type: "repo", source, packages: ["abcde"], ...extra } });
  expect(row.state).toBe(4); // failed
  expect((await h.jobOf(row.id)).attempts).toBe(1); // not retried
  return row.stateReason ?? "";
}

beforeAll(async () => {
  await mkdir(join(siteDir, "repo"), { recursive: true });
  await mkdir(join(siteDir, "secret"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await mkdir(allowed, { recursive: true });
  site = await repoServer(siteDir);
  elsewhere = await repoServer(await copyOfRepo());
  h = await composeHarness({
    ODCS_ALLOWED_REPO_ROOTS: allowed,
    ODCS_ALLOWED_REPO_URLS: `${site.url}/repo/`,
    ODCS_MAX_METADATA_BYTES: String(8 << 20),
  });
});
afterAll(async () => {
  await h?.stopAll();
  await site?.close();
  await elsewhere?.close();
});

describe("a remote repository's metadata cannot send the worker elsewhere", () => {
  test("xml:base to another port: refused, naming the package and location; no request there", async () => {
    const url = await remoteRepo((dir) =>
      editPrimary(dir, relocate("abcde", { href: ABCDE_HREF, base: `${elsewhere.url}/` })),
    );
    const reason = await failedReason(url);
    expect(reason).toContain(
      `package ${ABCDE} in ${url}: location "${ABCDE_HREF}" with xml:base "${elsewhere.url}/" resolves to ${elsewhere.url}/${ABCDE_HREF}, which is not under an allowed URL prefix`,
    );
    // With sigkeys the header is read first (HTTP Range): refused the same way.
    expect(await failedReason(url, { sigkeys: ["deadbeef"] })).toContain(
      `package ${ABCDE} in ${url}: location "${ABCDE_HREF}" with xml:base`,
    );
    expect(elsewhere.requests).toEqual([]);
    expect(site.requests.filter((p) => p.includes(ABCDE))).toEqual([]);
  });

  test.each([
    ["../", "../../secret/x.rpm", "/secret/x.rpm"],
    ["encoded dots", "%2e%2e/%2E%2e/secret/x.rpm", "/secret/x.rpm"],
    ["an encoded slash", "..%2f..%2fsecret/x.rpm", "/..%2f..%2fsecret/x.rpm"],
    ["backslashes", "..\\..\\secret\\x.rpm", "/secret/x.rpm"],
    ["a protocol-relative href", "//evil.example/x.rpm", "//evil.example/x.rpm"],
    ["a file: URL", "file:///etc/passwd", "file:///etc/passwd"],
    ["user info", "http://user@127.0.0.1/x.rpm", "http://user@127.0.0.1/x.rpm"],
  ])("location href with %s is refused before any request", async (_, href, resolvesTo) => {
    const before = site.requests.length;
    const url = await remoteRepo((dir) => editPrimary(dir, relocate("abcde", { href })));
    const reason = await failedReason(url);
    expect(reason).toContain(`package ${ABCDE} in ${url}: location ${JSON.stringify(href)}`);
    expect(reason).toContain(resolvesTo);
    expect(reason).toContain("which is not under an allowed URL prefix");
    // The other packages of the compose are fetched from the allowed prefix; nothing else.
    const seen = site.requests.slice(before);
    expect(seen.filter((p) => p.includes(ABCDE) || p.includes("secret"))).toEqual([]);
    expect(seen.every((p) => p.startsWith(new URL(url).pathname))).toBe(true);
  });

  test("repomd.xml's location href to another server or up the tree is refused", async () => {
    for (const href of [
      `${elsewhere.url}/repodata/primary.xml.gz`,
      "../../secret/primary.xml.gz",
    ]) {
      const before = site.requests.length;
      const url = await remoteRepo(async (dir) => {
        await replaceMetadata(
          dir,
          "primary",
          await readFile(join(dir, "repodata/primary.xml.gz")),
          href,
          "repodata/primary.xml.gz",
        );
      });
      const reason = await failedReason(url);
      expect(reason).toContain(`metadata file of ${url}: location ${JSON.stringify(href)}`);
      expect(reason).toContain("which is not under an allowed URL prefix");
      expect(site.requests.slice(before)).toEqual([
        `/${url.split("/").slice(3).join("/")}repodata/repomd.xml`,
      ]);
    }
    expect(elsewhere.requests).toEqual([]);
  });
});

describe("a local repository's metadata stays under the allowed roots", () => {
  test("a ../ escape out of the allowed root is refused, naming the package", async () => {
    const dir = await localRepo("dotdot", (d) =>
      editPrimary(d, relocate("abcde", { href: `../../outside/${ABCDE}.rpm` })),
    );
    expect(await failedReason(dir)).toContain(
      `package ${ABCDE} in ${dir}: location "../../outside/${ABCDE}.rpm" resolves to ${outside}/${ABCDE}.rpm, which is outside the allowed roots`,
    );
  });

  test("xml:base: a file: URL outside the roots and any remote base are refused", async () => {
    const fileBase = await localRepo("filebase", (d) =>
      editPrimary(d, relocate("abcde", { href: ABCDE_HREF, base: `file://${outside}/` })),
    );
    expect(await failedReason(fileBase)).toContain(
      `location "${ABCDE_HREF}" with xml:base "file://${outside}/" resolves to ${outside}/${ABCDE_HREF}, which is outside the allowed roots`,
    );
    const remoteBase = await localRepo("httpbase", (d) =>
      editPrimary(d, relocate("abcde", { href: ABCDE_HREF, base: `${elsewhere.url}/` })),
    );
    expect(await failedReason(remoteBase)).toContain(
      `package ${ABCDE} in ${remoteBase}: location "${ABCDE_HREF}" with xml:base "${elsewhere.url}/" points away from the local repository`,
    );
    expect(elsewhere.requests).toEqual([]);
  });

  test("a symlink out of the allowed roots is refused, for a package and for a metadata file", async () => {
    const pkgLink = await localRepo("symlink", async (d) => {
      await mkdir(join(outside, "noarch"), { recursive: true });
      await rename(join(d, "noarch"), join(outside, "noarch-moved"));
      await symlink(join(outside, "noarch-moved"), join(d, "noarch"));
    });
    expect(await failedReason(pkgLink)).toContain(
      `package ${ABCDE} in ${pkgLink}: location "${ABCDE_HREF}" resolves to ${outside}/noarch-moved/${ABCDE}.rpm through symlinks, which is outside the allowed roots`,
    );
    const mdLink = await localRepo("mdlink", async (d) => {
      // A repomd.xml of its own, or the cached parse of the fixture's would be used.
      const repomd = join(d, "repodata/repomd.xml");
      await writeFile(
        repomd,
        (await readFile(repomd, "utf8")).replace(/<revision>\d+/, "<revision>7"),
      );
      await rename(join(d, "repodata/primary.xml.gz"), join(outside, "primary.xml.gz"));
      await symlink(join(outside, "primary.xml.gz"), join(d, "repodata/primary.xml.gz"));
    });
    expect(await failedReason(mdLink)).toContain(
      `metadata file of ${mdLink}: location "repodata/primary.xml.gz" resolves to ${outside}/primary.xml.gz through symlinks`,
    );
  });

  test("a location outside the repository but inside an allowed root is followed", async () => {
    const shared = join(allowed, "shared");
    await mkdir(shared, { recursive: true });
    const dir = await localRepo("sharedpool", async (d) => {
      await rename(join(d, ABCDE_HREF), join(shared, `${ABCDE}.rpm`));
      await editPrimary(d, relocate("abcde", { href: `../shared/${ABCDE}.rpm` }));
    });
    const row = await h.run({
      source: { type: "repo", source: dir, packages: ["abcde"] },
    });
    expect(row.stateReason).toBe("Compose is generated successfully");
    const placed = (await h.rpms(row.id)).map((r) => r.path);
    expect(placed).toContain(`Packages/a/${ABCDE}.rpm`);
  });
});

describe("size limits: a decompression bomb fails the compose with a clear reason", () => {
  test.each(["gz", "zst", "xz"] as const)("a %s bomb (primary)", async (packing: Packing) => {
    if (packing === "none") return;
    const total = packing === "gz" ? 4 * 1024 ** 3 : 64 << 20;
    const dir = await localRepo(`bomb-${packing}`, (d) =>
      replaceMetadata(d, "primary", bomb(packing, total), `repodata/primary.xml.${packing}`),
    );
    const reason = await failedReason(dir);
    expect(reason).toContain(`cannot read primary metadata repodata/primary.xml.${packing}`);
    expect(reason).toContain(`larger than ${8 << 20} bytes decompressed (ODCS_MAX_METADATA_BYTES)`);
  });

  test("a repomd.xml past ODCS_MAX_REPOMD_BYTES, local or remote", async () => {
    const small = await composeHarness({
      ODCS_ALLOWED_REPO_ROOTS: allowed,
      ODCS_ALLOWED_REPO_URLS: `${site.url}/repo/`,
      ODCS_MAX_REPOMD_BYTES: "1024",
    });
    try {
      const dir = await localRepo("bigrepomd");
      const local = await small.run({ source: { type: "repo", source: dir, packages: ["abcde"] } });
      expect(local.stateReason).toContain(
        `${dir}/repodata/repomd.xml is larger than 1024 bytes (ODCS_MAX_REPOMD_BYTES)`,
      );
      const url = await remoteRepo();
      const remote = await small.run({
        source: { type: "repo", source: url, packages: ["abcde"] },
      });
      expect(remote.stateReason).toContain(
        `${url}repodata/repomd.xml is larger than 1024 bytes (ODCS_MAX_REPOMD_BYTES)`,
      );
    } finally {
      await small.stopAll();
    }
  });
});
