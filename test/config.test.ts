import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const rejection = (env: Record<string, string>, file?: Record<string, unknown>) => {
  try {
    loadConfig(env, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("the config was accepted");
};

describe("ODCS_MULTILIB_BLACKLIST / ODCS_MULTILIB_WHITELIST", () => {
  test("default to no lists", () => {
    const c = loadConfig({});
    expect(c.ODCS_MULTILIB_BLACKLIST).toEqual({});
    expect(c.ODCS_MULTILIB_WHITELIST).toEqual({});
  });

  test("JSON in the environment, an object in the config file", () => {
    const c = loadConfig(
      { ODCS_MULTILIB_BLACKLIST: '{"x86_64": ["kernel*", "httpd"], "*": ["glibc-headers"]}' },
      { ODCS_MULTILIB_WHITELIST: { s390x: ["wine"] } },
    );
    expect(c.ODCS_MULTILIB_BLACKLIST).toEqual({
      x86_64: ["kernel*", "httpd"],
      "*": ["glibc-headers"],
    });
    expect(c.ODCS_MULTILIB_WHITELIST).toEqual({ s390x: ["wine"] });
  });

  test.each([
    [
      "{x86_64: [kernel]}",
      'invalid setting ODCS_MULTILIB_BLACKLIST: not valid JSON; expected {"<tree arch or *>": ["<package name glob>", …]}',
    ],
    [
      '["kernel"]',
      'invalid setting ODCS_MULTILIB_BLACKLIST: expected a JSON object {"<tree arch or *>": ["<package name glob>", …]}',
    ],
    [
      '{"x86_64": "kernel"}',
      "invalid setting ODCS_MULTILIB_BLACKLIST.x86_64: expected a list of package name globs",
    ],
    [
      '{"x86-64": ["kernel"]}',
      'invalid setting ODCS_MULTILIB_BLACKLIST: "x86-64" is not a tree arch or "*"',
    ],
    [
      '{"x86_64": ["kernel", "glibc devel"]}',
      "invalid setting ODCS_MULTILIB_BLACKLIST.x86_64.1: a package name glob must be non-empty, without spaces",
    ],
  ])("%s is rejected: %s", (value, message) => {
    expect(rejection({ ODCS_MULTILIB_BLACKLIST: value })).toBe(message);
  });

  test("both settings are checked, each named in its own line", () => {
    expect(
      rejection({ ODCS_MULTILIB_WHITELIST: '{"*": [""]}' }, { ODCS_MULTILIB_BLACKLIST: [] }),
    ).toBe(
      [
        'invalid setting ODCS_MULTILIB_BLACKLIST: expected a JSON object {"<tree arch or *>": ["<package name glob>", …]}',
        "invalid setting ODCS_MULTILIB_WHITELIST.*.0: a package name glob must be non-empty, without spaces",
      ].join("\n"),
    );
  });
});
