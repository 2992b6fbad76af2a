import { expect, test } from "vitest";
import { isAllowedGitUrl } from "../../src/domain/sources/git-url.ts";

test.each([
  ["https://src.example.com/modules/defaults.git", ["https://src.example.com/modules"], true],
  ["https://src.example.com/modules-evil/x.git", ["https://src.example.com/modules"], false],
  ["https://src.example.com/modules/../etc", ["https://src.example.com/modules"], false],
  ["http://src.example.com/modules/x.git", ["https://src.example.com/modules"], false],
  ["https://user@src.example.com/modules/x.git", ["https://src.example.com/"], false],
  ["file:///srv/git/defaults", ["file:///srv/git"], true],
  ["file:///srv/gitx/defaults", ["file:///srv/git"], false],
  ["file:///srv/git/../../etc", ["file:///srv/git"], false],
  ["file://host/srv/git/d", ["file:///srv/git"], false],
  ["file:///srv/git/d", ["https://srv/git"], false],
  ["ssh://src.example.com/modules/x.git", ["ssh://src.example.com/"], false],
  ["ext::sh -c touch% /tmp/pwned", ["ext::"], false],
  ["https://src.example.com/modules/x.git", [], false],
] as const)("%s under %j: %s", (url, prefixes, allowed) => {
  expect(isAllowedGitUrl(url, prefixes)).toBe(allowed);
});
