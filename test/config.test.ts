import { describe, expect, test } from "vitest";
import {
  ConfigError,
  editDistance,
  knownVariables,
  loadConfig,
  unknownVariables,
} from "../src/config.ts";

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

describe("process settings", () => {
  test("defaults: 30 s grace, proxy headers not trusted, no worker id", () => {
    const c = loadConfig({});
    expect(c.ODCS_WORKER_GRACE_MS).toBe(30_000);
    expect(c.ODCS_TRUST_PROXY).toBe(false);
    expect(c.ODCS_WORKER_ID).toBeUndefined();
  });

  test("set from the environment", () => {
    const c = loadConfig({
      ODCS_WORKER_GRACE_MS: "0",
      ODCS_TRUST_PROXY: "true",
      ODCS_WORKER_ID: "builder-1",
    });
    expect(c).toMatchObject({
      ODCS_WORKER_GRACE_MS: 0,
      ODCS_TRUST_PROXY: true,
      ODCS_WORKER_ID: "builder-1",
    });
  });

  test("a grace time that is not a number of ms in range is refused", () => {
    expect(rejection({ ODCS_WORKER_GRACE_MS: "soon" })).toMatch(
      /^invalid setting ODCS_WORKER_GRACE_MS: /,
    );
    expect(rejection({ ODCS_WORKER_GRACE_MS: "-1" })).toMatch(
      /^invalid setting ODCS_WORKER_GRACE_MS: /,
    );
  });
});

describe("unknown ODCS_* variables", () => {
  test("each is named with the closest known setting, sorted; others are left alone", () => {
    expect(
      unknownVariables({
        ODCS_WORKER_CONCURENCY: "4",
        ODCS_DATABSE_URL: "file:x",
        ODCS_TRUST_PROXY: "true",
        ODCS_CONFIG: "/etc/odcs.json",
        ODCS_SERVER: "https://odcs.example.com",
        ODCS_TOKEN: "t",
        PATH: "/usr/bin",
        PORT: "5000",
        MY_ODCS_THING: "x",
      }),
    ).toEqual([
      { name: "ODCS_DATABSE_URL", closest: "ODCS_DATABASE_URL" },
      { name: "ODCS_WORKER_CONCURENCY", closest: "ODCS_WORKER_CONCURRENCY" },
    ]);
  });

  test("every schema setting, ODCS_CONFIG and the CLI's variables are known", () => {
    const known = knownVariables();
    for (const name of [
      "ODCS_WORKER_GRACE_MS",
      "ODCS_TRUST_PROXY",
      "ODCS_WORKER_ID",
      "ODCS_CONFIG",
      "ODCS_SERVER",
      "ODCS_TOKEN",
      "ODCS_LOG_LEVEL",
    ])
      expect(known).toContain(name);
    expect(unknownVariables(Object.fromEntries(known.map((k) => [k, "x"])))).toEqual([]);
  });

  test.each([
    ["", "", 0],
    ["abc", "abc", 0],
    ["abc", "acb", 1],
    ["kitten", "sitting", 3],
    ["ODCS_ARCH", "ODCS_ARCHES", 2],
  ])("editDistance(%j, %j) = %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
