import { describe, expect, it } from "vitest";
import { isUnderRoot, parseRepoLocation } from "../../../src/domain/sources/repo.ts";

const policy = {
  ODCS_ALLOWED_REPO_ROOTS: ["/srv/repos/", "/mnt/mirror"],
  ODCS_ALLOWED_REPO_URLS: ["https://mirror.example.org/repos/"],
};

describe("isUnderRoot", () => {
  it.each([
    ["/srv/repos", "/srv/repos", true],
    ["/srv/repos/a/b", "/srv/repos/", true],
    ["/srv/reposx", "/srv/repos", false],
    ["/srv", "/srv/repos", false],
    ["/anything", "/", true],
  ])("%s under %s → %s", (path, root, expected) => {
    expect(isUnderRoot(path, root)).toBe(expected);
  });
});

describe("parseRepoLocation", () => {
  it("normalises a local path (one trailing slash dropped)", () => {
    expect(parseRepoLocation("/srv/repos/a/", policy)).toEqual({
      kind: "path",
      path: "/srv/repos/a",
    });
    expect(parseRepoLocation("/mnt/mirror", policy)).toEqual({ kind: "path", path: "/mnt/mirror" });
  });

  it("normalises a URL to end in one slash", () => {
    expect(parseRepoLocation("https://mirror.example.org/repos/f40", policy)).toEqual({
      kind: "url",
      url: "https://mirror.example.org/repos/f40/",
    });
    expect(parseRepoLocation("HTTPS://MIRROR.example.org/repos/x/", policy)).toEqual({
      kind: "url",
      url: "https://mirror.example.org/repos/x/",
    });
  });

  it("root '/' allows every absolute path but still refuses dot segments", () => {
    const open = { ODCS_ALLOWED_REPO_ROOTS: ["/"], ODCS_ALLOWED_REPO_URLS: [] };
    expect(parseRepoLocation("/etc/pki", open)).toEqual({ kind: "path", path: "/etc/pki" });
    expect(() => parseRepoLocation("/etc/../x", open)).toThrow(
      'must not contain "." or ".." segments',
    );
  });

  it.each([
    ["", "Empty repository path"],
    ["relative/path", "must be absolute"],
    ["/srv/repos/../../etc", '"." or ".."'],
    ["/srv/repos/a/.", '"." or ".."'],
    ["/srv//repos", 'empty segments ("//")'],
    ["/srv/other", "is not under an allowed root (/srv/repos/, /mnt/mirror)"],
    ["file:///srv/repos/a", "must be http or https"],
    ["javascript:alert(1)", "must be http or https"],
    ["https://mirror.example.org/repos/a/%2e%2e/b", "percent-escapes"],
    ["https://mirror.example.org/repos/a/%2E./b", "percent-escapes"],
    ["https://mirror.example.org/repos\\..\\x", "backslashes"],
    ["https://mirror.example.org/repos/a/../b", '"." or ".."'],
    ["https://mirror.example.org/repos/./b", '"." or ".."'],
    ["https://a:b@mirror.example.org/repos/a", "must not contain credentials"],
    [
      "https://mirror.example.org/repos/a?x=1",
      "must not contain credentials, a query or a fragment",
    ],
    ["https://mirror.example.org/other", "is not under an allowed URL prefix"],
    ["http://", "is not a valid URL"],
  ])("%j is refused (%s)", (item, message) => {
    expect(() => parseRepoLocation(item, policy)).toThrow(message);
  });

  it("says when nothing is allowed at all", () => {
    const none = { ODCS_ALLOWED_REPO_ROOTS: [], ODCS_ALLOWED_REPO_URLS: [] };
    expect(() => parseRepoLocation("/srv/repos", none)).toThrow("allows no local repository roots");
    expect(() => parseRepoLocation("https://x.example/", none)).toThrow(
      "allows no repository URLs",
    );
  });
});
