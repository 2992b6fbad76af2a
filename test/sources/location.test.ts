/**
 * `locate`: how a location from a repository's metadata is resolved, and
 * that whatever it resolves to is checked against the operator's settings.
 * The end-to-end refusals (and that no request is sent) are in
 * test/worker/hostile-repo.test.ts.
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ComposeError } from "../../src/sources/errors.ts";
import { locate, locateRealPath } from "../../src/sources/location.ts";
import { tempDir } from "../helpers/db.ts";

const policy = {
  ODCS_ALLOWED_REPO_ROOTS: ["/srv/repos"],
  ODCS_ALLOWED_REPO_URLS: ["http://mirror.example/pub/", "https://cdn.example/x"],
};
const remote = { kind: "url", url: "http://mirror.example/pub/f40/" } as const;
const local = { kind: "path", path: "/srv/repos/f40" } as const;

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ComposeError);
    expect((err as ComposeError).retryable).toBe(false);
    return (err as Error).message;
  }
  throw new Error("not refused");
}

describe("locate: remote repositories", () => {
  test.each([
    ["Packages/a.rpm", undefined, "http://mirror.example/pub/f40/Packages/a.rpm"],
    ["../f39/a.rpm", undefined, "http://mirror.example/pub/f39/a.rpm"],
    ["a.rpm", "https://cdn.example/x/y/", "https://cdn.example/x/y/a.rpm"],
    ["a.rpm", "../mirror/", "http://mirror.example/pub/mirror/a.rpm"],
    ["a b+c.rpm#frag", undefined, "http://mirror.example/pub/f40/a%20b+c.rpm"],
  ])("%s with xml:base %s → %s", (href, base, url) => {
    expect(locate(remote, href, base, policy, "package a")).toEqual({ kind: "url", url });
  });

  test.each([
    ["../../a.rpm", undefined, "resolves to http://mirror.example/a.rpm"],
    ["a.rpm", "https://cdn.example/xy/", "resolves to https://cdn.example/xy/a.rpm"],
    ["a.rpm", "http://mirror.example:81/pub/", "resolves to http://mirror.example:81/pub/a.rpm"],
    ["a.rpm", "file:///srv/repos/", "resolves to file:///srv/repos/a.rpm"],
    ["http://mirror.example@evil.example/pub/a.rpm", undefined, "evil.example"],
  ])("%s with xml:base %s is refused", (href, base, why) => {
    const message = refusal(() => locate(remote, href, base, policy, "package a-1-1.noarch"));
    expect(message).toMatch(/^package a-1-1\.noarch: location /);
    expect(message).toContain(why);
    expect(message).toContain("not under an allowed URL prefix (ODCS_ALLOWED_REPO_URLS)");
  });
});

describe("locate: local repositories", () => {
  test.each([
    ["Packages/a.rpm", undefined, "/srv/repos/f40/Packages/a.rpm"],
    ["/Packages/a.rpm", undefined, "/srv/repos/f40/Packages/a.rpm"], // joined, as librepo does
    ["../pool/a.rpm", undefined, "/srv/repos/pool/a.rpm"],
    ["a.rpm", "file:///srv/repos/pool/", "/srv/repos/pool/a.rpm"],
    ["a.rpm", "/srv/repos/pool", "/srv/repos/pool/a.rpm"],
    ["a.rpm", "../pool/", "/srv/repos/pool/a.rpm"],
    ["%2e%2e/%2e%2e/a.rpm", undefined, "/srv/repos/f40/%2e%2e/%2e%2e/a.rpm"], // a name, not a step up
  ])("%s with xml:base %s → %s", (href, base, path) => {
    expect(locate(local, href, base, policy, "package a")).toEqual({ kind: "path", path });
  });

  test.each([
    ["../../a.rpm", undefined, "resolves to /srv/a.rpm, which is outside the allowed roots"],
    ["a.rpm", "file:///etc/", "resolves to /etc/a.rpm, which is outside the allowed roots"],
    ["a.rpm", "file:///srv/repos/..%2f..%2fetc/", "has an unusable xml:base"],
    ["a.rpm", "http://mirror.example/pub/", "points away from the local repository"],
    ["a.rpm", "http://[bad/", "has an xml:base that is not a valid URL"],
  ])("%s with xml:base %s is refused", (href, base, why) => {
    expect(refusal(() => locate(local, href, base, policy, "package a"))).toContain(why);
  });

  test("locateRealPath follows symlinks and checks where they lead", async () => {
    const top = tempDir("odcs-loc-");
    const root = join(top, "allowed");
    await mkdir(join(root, "repo"), { recursive: true });
    await mkdir(join(top, "elsewhere"), { recursive: true });
    await writeFile(join(top, "elsewhere/x.xml"), "x");
    await writeFile(join(root, "repo/in.xml"), "x");
    await symlink(join(top, "elsewhere/x.xml"), join(root, "repo/out.xml"));
    await symlink(join(root, "repo/in.xml"), join(root, "repo/alias.xml"));
    const roots = { ODCS_ALLOWED_REPO_ROOTS: [root], ODCS_ALLOWED_REPO_URLS: [] };
    const repo = join(root, "repo");
    expect(await locateRealPath(repo, "alias.xml", undefined, roots, "f")).toBe(
      join(root, "repo/in.xml"),
    );
    await expect(locateRealPath(repo, "out.xml", undefined, roots, "f")).rejects.toThrow(
      `f: location "out.xml" resolves to ${top}/elsewhere/x.xml through symlinks, which is outside the allowed roots`,
    );
    await expect(locateRealPath(repo, "none.xml", undefined, roots, "f")).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
