import { describe, expect, it } from "vitest";
import {
  isAllowedPath,
  isAllowedUrl,
  isUrlUnderPrefix,
} from "../../src/domain/allowed-location.ts";

describe("isUrlUnderPrefix: parsed, segment by segment, never a raw string prefix", () => {
  const prefix = "http://mirror.example:8080/repos/f40";
  it.each([
    ["http://mirror.example:8080/repos/f40", true],
    ["http://mirror.example:8080/repos/f40/", true],
    ["http://mirror.example:8080/repos/f40/Packages/a.rpm", true],
    ["HTTP://MIRROR.EXAMPLE:8080/repos/f40/a.rpm", true],
    ["http://mirror.example:8080/repos/f40/a%2Bb.rpm", true],
    ["http://mirror.example:8080/repos/f40/a.rpm?x=1", true],
    // another port, host, scheme
    ["http://mirror.example:8081/repos/f40/a.rpm", false],
    ["http://mirror.example/repos/f40/a.rpm", false],
    ["https://mirror.example:8080/repos/f40/a.rpm", false],
    ["http://mirror.example.evil:8080/repos/f40/a.rpm", false],
    // a sibling whose name starts like the prefix
    ["http://mirror.example:8080/repos/f40-evil/a.rpm", false],
    ["http://mirror.example:8080/repos/f4", false],
    // dot segments, raw or encoded, are resolved before the comparison
    ["http://mirror.example:8080/repos/f40/../secret", false],
    ["http://mirror.example:8080/repos/f40/%2e%2e/secret", false],
    ["http://mirror.example:8080/repos/f40/%2E%2e/secret", false],
    ["http://mirror.example:8080/repos/f40/.%2e/secret", false],
    ["http://mirror.example:8080/repos/f40\\..\\secret", false],
    // encoded slashes or dots a server would decode into a step up
    ["http://mirror.example:8080/repos/f40/..%2fsecret", false],
    ["http://mirror.example:8080/repos/f40/%2e%2e%2fsecret", false],
    ["http://mirror.example:8080/repos/f40/%252e%252e/x", true], // one decoding: a name "%2e%2e"
    ["http://mirror.example:8080/repos/f40/a%5c..%5csecret", false],
    ["http://mirror.example:8080/repos/f40/a%00.rpm", false],
    ["http://mirror.example:8080/repos/f40/%zz", false],
    // user info: "allowed@evil" is host evil; credentials on the allowed host are refused too
    ["http://mirror.example:8080@evil.example/repos/f40/a.rpm", false],
    ["http://user:pw@mirror.example:8080/repos/f40/a.rpm", false],
    // not http(s)
    ["file:///repos/f40/a.rpm", false],
    ["ftp://mirror.example:8080/repos/f40/a.rpm", false],
    ["not a url", false],
  ])("%s → %s", (url, expected) => {
    expect(isUrlUnderPrefix(url, prefix)).toBe(expected);
  });

  it("a prefix with a trailing slash, a default port or upper case compares the same", () => {
    expect(isUrlUnderPrefix("https://m.example/r/a", "HTTPS://M.EXAMPLE:443/r/")).toBe(true);
    expect(isUrlUnderPrefix("https://m.example/r", "https://m.example/r/")).toBe(true);
    expect(isUrlUnderPrefix("https://m.example/", "https://m.example")).toBe(true);
    expect(isUrlUnderPrefix("https://m.example:8443/", "https://m.example")).toBe(false);
  });

  it("isAllowedUrl: any one prefix; none at all allows nothing", () => {
    const prefixes = ["http://a.example/x/", "http://127.0.0.1:9/y"];
    expect(isAllowedUrl("http://127.0.0.1:9/y/z", prefixes)).toBe(true);
    expect(isAllowedUrl("http://127.0.0.1:10/y/z", prefixes)).toBe(false);
    expect(isAllowedUrl("http://a.example/x/z", [])).toBe(false);
  });
});

describe("isAllowedPath", () => {
  it.each([
    ["/srv/repos/a/b.rpm", true],
    ["/srv/repos", true],
    ["/srv/repos-evil/b.rpm", false],
    ["/etc/shadow", false],
    ["relative/srv/repos", false],
  ])("%s under /srv/repos/ → %s", (path, expected) => {
    expect(isAllowedPath(path, ["/srv/repos/"])).toBe(expected);
  });
});
