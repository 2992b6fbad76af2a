import { describe, expect, it } from "vitest";
import {
  parseCreateRequest,
  parseSecondsToLive,
  pyRepr,
} from "../../src/domain/compose-request.ts";

const S = {
  ODCS_SECONDS_TO_LIVE: 100,
  ODCS_MAX_SECONDS_TO_LIVE: 1000,
  ODCS_ARCHES: ["x86_64", "aarch64"],
  ODCS_SIGKEYS: ["DEF1ABCD"],
  ODCS_ALLOWED_REPO_ROOTS: ["/"],
  ODCS_ALLOWED_REPO_URLS: [],
};

describe("pyRepr", () => {
  it("renders like Python's repr of the parsed JSON", () => {
    expect(pyRepr({ a: [1, true, false, null, "x'y"], b: {} })).toBe(
      "{'a': [1, True, False, None, 'x\\'y'], 'b': {}}",
    );
  });
});

describe("parseSecondsToLive", () => {
  it.each([
    [{}, 100],
    [{ seconds_to_live: 0 }, 100],
    [{ seconds_to_live: 5 }, 5],
    [{ seconds_to_live: 1000 }, 1000],
    [{ seconds_to_live: 1001 }, 1000],
    [{ "seconds-to-live": 1e20 }, 1000],
    [{ "seconds-to-live": " 9 " }, 9],
    [{ "seconds-to-live": "+9" }, 9],
    [{ "seconds-to-live": 9.99 }, 9],
    [{ "seconds-to-live": "0" }, 100],
  ])("%j → %d", (body, expected) => {
    expect(parseSecondsToLive(body, S)).toBe(expected);
  });

  it.each([
    [{ seconds_to_live: -1 }, "seconds_to_live must not be negative"],
    [
      { "seconds-to-live": "1.5" },
      "Invalid seconds_to_live specified in request: {'seconds-to-live': '1.5'}",
    ],
    [
      { "seconds-to-live": {} },
      "Invalid seconds_to_live specified in request: {'seconds-to-live': {}}",
    ],
  ])("%j refused", (body, message) => {
    expect(() => parseSecondsToLive(body, S)).toThrow(message);
  });
});

describe("parseCreateRequest", () => {
  it("applies the defaults (arches, sigkeys, results, compose_type, lookaside)", () => {
    const r = parseCreateRequest({ source: { type: "repo", source: "/a /b /a" } }, S);
    expect(r).toMatchObject({
      sourceType: 3,
      sourceTypeName: "repo",
      sourceItems: ["/a", "/b"],
      source: "/a /b",
      secondsToLive: 100,
      flags: 0,
      results: 1,
      resultNames: ["repository"],
      arches: "x86_64 aarch64",
      archList: ["x86_64", "aarch64"],
      sigkeys: "DEF1ABCD",
      packages: null,
      lookasideRepos: "",
      lookasideRepoList: [],
      composeType: "test",
      targetDir: "default",
      label: null,
      multilibMethod: 0,
    });
  });

  it("an empty arches list means the default arches", () => {
    expect(
      parseCreateRequest({ source: { type: "repo", source: "/a" }, arches: [] }, S).arches,
    ).toBe("x86_64 aarch64");
  });

  it.each([["hasOwnProperty"], ["__proto__"], ["valueOf"]])(
    "prototype name %s is no flag",
    (flag) => {
      expect(() =>
        parseCreateRequest({ source: { type: "repo", source: "/a" }, flags: [flag] }, S),
      ).toThrow(`Unknown flag ${flag}`);
    },
  );
});
