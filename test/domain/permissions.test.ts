import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { ForbiddenError } from "../../src/domain/errors.ts";
import type { Identity } from "../../src/domain/identity.ts";
import {
  allowedClientsForAbout,
  type ComposeAttributes,
  checkComposePermissions,
  isAdmin,
  isAllowedClient,
  requireAdmin,
  requireAllowedClient,
  requireCancelPermission,
  requireScope,
} from "../../src/domain/permissions.ts";

type Entries = Record<string, Record<string, string[]>>;

function configWith(
  clients: { users?: Entries; groups?: Entries },
  extra: Record<string, unknown> = {},
) {
  return loadConfig(
    {},
    {
      ODCS_AUTH_BACKEND: "openidc",
      ODCS_OIDC_ISSUER: "https://id.example.com",
      ODCS_OIDC_AUDIENCE: "odcs",
      ODCS_ALLOWED_CLIENTS: { users: clients.users ?? {}, groups: clients.groups ?? {} },
      ODCS_ADMINS: { users: ["root"], groups: ["odcs-admins"] },
      ...extra,
    },
  );
}

function who(username: string, groups: string[] = [], scopes: string[] | null = []): Identity {
  return { username, groups, scopes };
}

/** A plain tag compose with every default filled in, as the create handler resolves it. */
function compose(overrides: Partial<ComposeAttributes> = {}): ComposeAttributes {
  return {
    source_type: "tag",
    sources: ["f26"],
    results: ["repository"],
    flags: [],
    arches: ["x86_64"],
    compose_type: "test",
    target_dir: null,
    raw_config_key: null,
    ...overrides,
  };
}

function forbiddenMessage(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof ForbiddenError) return err.message;
    throw err;
  }
}

const NOT_ALLOWED = (user: string, what: string) =>
  `User ${user} not allowed to operate with compose with ${what}.`;

describe("requireScope", () => {
  const config = configWith({});
  const full = (s: string) => `https://pagure.io/odcs/${s}`;

  test.each([
    ["noauth passes", null, "new-compose", undefined],
    ["full scope passes", who("a", [], [full("new-compose")]), "new-compose", undefined],
    [
      "another scope does not count",
      who("a", [], [full("new-compose")]),
      "delete-compose",
      "Request does not have required scope delete-compose",
    ],
    [
      "bare short name is not the full scope",
      who("a", [], ["renew-compose"]),
      "renew-compose",
      "Request does not have required scope renew-compose",
    ],
    [
      "no scopes at all",
      who("a", [], []),
      "new-compose",
      "Request does not have required scope new-compose",
    ],
    ["backend without scopes passes", who("a", [], null), "new-compose", undefined],
  ] as const)("%s", (_name, identity, scope, message) => {
    expect(forbiddenMessage(() => requireScope(identity, scope, config))).toBe(message);
  });

  test("an empty prefix makes the bare names the full scopes", () => {
    const bare = configWith({}, { ODCS_OIDC_SCOPE_PREFIX: "" });
    expect(() => requireScope(who("a", [], ["new-compose"]), "new-compose", bare)).not.toThrow();
  });

  test("ODCS_OIDC_REQUIRE_SCOPES=false skips the check", () => {
    const off = configWith({}, { ODCS_OIDC_REQUIRE_SCOPES: false });
    expect(() => requireScope(who("a", [], []), "delete-compose", off)).not.toThrow();
  });
});

describe("roles", () => {
  const config = configWith({ users: { alice: {} }, groups: { packagers: {} } });

  test.each([
    ["user entry", who("alice"), true],
    ["group entry", who("bob", ["other", "packagers"]), true],
    ["neither", who("carol", ["other"]), false],
    ["an Object.prototype name is not an entry", who("constructor", ["toString"]), false],
    ["noauth", null, true],
  ] as const)("allowed_clients: %s", (_name, identity, member) => {
    expect(isAllowedClient(identity, config)).toBe(member);
    expect(forbiddenMessage(() => requireAllowedClient(identity, config))).toBe(
      member ? undefined : `User ${identity?.username} is not in role allowed_clients.`,
    );
  });

  test.each([
    ["admin user", who("root"), true],
    ["admin group", who("dave", ["odcs-admins"]), true],
    ["allowed client is not an admin", who("alice"), false],
    ["noauth", null, true],
  ] as const)("admins: %s", (_name, identity, admin) => {
    expect(isAdmin(identity, config)).toBe(admin);
    expect(forbiddenMessage(() => requireAdmin(identity, config))).toBe(
      admin ? undefined : `User ${identity?.username} is not in role admins.`,
    );
  });

  test("the roles are independent: an admin outside allowed_clients cannot create", () => {
    expect(forbiddenMessage(() => requireAllowedClient(who("root"), config))).toBe(
      "User root is not in role allowed_clients.",
    );
  });

  test.each([
    ["owner", who("alice"), undefined],
    ["admin", who("dave", ["odcs-admins"]), undefined],
    ["noauth", null, undefined],
    [
      "someone else",
      who("bob", ["packagers"]),
      "Compose (id=7) can not be canceled, it's owned by someone else.",
    ],
  ] as const)("cancel: %s", (_name, identity, message) => {
    expect(
      forbiddenMessage(() => requireCancelPermission(identity, { id: 7, owner: "alice" }, config)),
    ).toBe(message);
  });
});

interface PermissionCase {
  name: string;
  clients: { users?: Entries; groups?: Entries };
  identity: Identity | null;
  compose?: Partial<ComposeAttributes>;
  config?: Record<string, unknown>;
  /** `undefined` = permitted; otherwise the exact 403 message. */
  message?: string;
}

const cases: PermissionCase[] = [
  {
    name: "noauth passes everything",
    clients: {},
    identity: null,
    compose: { source_type: "pulp" },
  },
  {
    name: "empty user entry permits a default compose",
    clients: { users: { alice: {} } },
    identity: who("alice"),
  },
  {
    name: "missing source_types key defaults to ODCS_ALLOWED_SOURCE_TYPES",
    clients: { users: { alice: {} } },
    identity: who("alice"),
    compose: { source_type: "pulp" },
    message: NOT_ALLOWED("alice", "source_types=pulp"),
  },
  {
    name: "default lists come from the configuration",
    clients: { users: { alice: {} } },
    identity: who("alice"),
    config: { ODCS_ALLOWED_SOURCE_TYPES: ["repo"] },
    message: NOT_ALLOWED("alice", "source_types=tag"),
  },
  {
    name: "a users entry wins over an unrestricted group entry",
    clients: { users: { alice: { source_types: ["module"] } }, groups: { devs: {} } },
    identity: who("alice", ["devs"]),
    message: NOT_ALLOWED("alice", "source_types=tag"),
  },
  {
    name: "group entries are used without a users entry; the first permitting wins",
    clients: { groups: { "grp-a": { source_types: ["module"] }, "grp-b": {} } },
    identity: who("eve", ["grp-a", "grp-b"]),
  },
  {
    name: "messages of every rejecting group entry are joined, duplicates merged",
    clients: {
      groups: {
        "grp-a": { source_types: ["module"] },
        "grp-b": { source_types: ["build"], arches: ["aarch64"] },
      },
    },
    identity: who("eve", ["grp-a", "grp-b"]),
    message: `${NOT_ALLOWED("eve", "source_types=tag")} ${NOT_ALLOWED("eve", "arches=x86_64")}`,
  },
  {
    name: "groups the user is not in are ignored",
    clients: { users: { bob: {} }, groups: { admins2: {} } },
    identity: who("mallory", ["nobody"]),
    message: "User mallory not allowed to operate with any compose.",
  },
  {
    name: 'no_flags quirk: flags ["no_deps"] rejects a compose without flags',
    clients: { users: { frank: { flags: ["no_deps"] } } },
    identity: who("frank"),
    message: NOT_ALLOWED("frank", "flags=no_flags"),
  },
  {
    name: 'no_flags quirk: flags ["no_deps"] rejects no_deps too',
    clients: { users: { frank: { flags: ["no_deps"] } } },
    identity: who("frank"),
    compose: { flags: ["no_deps"] },
    message: NOT_ALLOWED("frank", "flags=no_flags"),
  },
  {
    name: "flags listing no_flags permit the listed flags",
    clients: { users: { frank: { flags: ["no_flags", "no_deps"] } } },
    identity: who("frank"),
    compose: { flags: ["no_deps"] },
  },
  {
    name: "a flag outside the list is named",
    clients: { users: { frank: { flags: ["no_flags", "no_deps"] } } },
    identity: who("frank"),
    compose: { flags: ["no_deps", "check_deps"] },
    message: NOT_ALLOWED("frank", "flags=check_deps"),
  },
  {
    name: "two offending attributes of one entry give two sentences in check order",
    clients: { users: { frank: { flags: ["no_deps"] } } },
    identity: who("frank"),
    compose: { arches: ["aarch64"] },
    message: `${NOT_ALLOWED("frank", "flags=no_flags")} ${NOT_ALLOWED("frank", "arches=aarch64")}`,
  },
  {
    name: '[""] allows anything',
    clients: { users: { alice: { sources: [""], arches: [""] } } },
    identity: who("alice"),
    compose: { sources: ["whatever", "else"], arches: ["s390x"] },
  },
  {
    name: "[] allows nothing",
    clients: { users: { alice: { sources: [] } } },
    identity: who("alice"),
    message: NOT_ALLOWED("alice", "sources=f26"),
  },
  {
    name: "the first offending value is named",
    clients: { users: { alice: { sources: ["a"] } } },
    identity: who("alice"),
    compose: { sources: ["a", "b", "c"] },
    message: NOT_ALLOWED("alice", "sources=b"),
  },
  {
    name: "a build compose's empty source is checked as the empty string",
    clients: { users: { gina: { source_types: ["build"], sources: ["f26"] } } },
    identity: who("gina"),
    compose: { source_type: "build", sources: [] },
    message: NOT_ALLOWED("gina", "sources="),
  },
  {
    name: "repository is always among the results",
    clients: { users: { alice: { results: ["iso"] } } },
    identity: who("alice"),
    compose: { results: ["iso"] },
    message: NOT_ALLOWED("alice", "results=repository"),
  },
  {
    name: "arches default to ODCS_ALLOWED_ARCHES",
    clients: { users: { alice: {} } },
    identity: who("alice"),
    compose: { arches: ["x86_64", "aarch64"] },
    message: NOT_ALLOWED("alice", "arches=aarch64"),
  },
  {
    name: "compose_types restricts the compose type",
    clients: { users: { alice: { compose_types: ["production"] } } },
    identity: who("alice"),
    message: NOT_ALLOWED("alice", "compose_types=test"),
  },
  {
    name: "the default target dir is always allowed",
    clients: { users: { alice: { target_dirs: [] } } },
    identity: who("alice"),
  },
  {
    name: "an extra target dir needs target_dirs",
    clients: { users: { alice: {} } },
    identity: who("alice"),
    compose: { target_dir: "releases" },
    message: NOT_ALLOWED("alice", "target_dirs=releases"),
  },
  {
    name: "an extra target dir listed in target_dirs",
    clients: { users: { alice: { target_dirs: ["releases"] } } },
    identity: who("alice"),
    compose: { target_dir: "releases" },
  },
  {
    name: "a raw_config key needs raw_config_keys",
    clients: { users: { alice: { source_types: ["raw_config"] } } },
    identity: who("alice"),
    compose: { source_type: "raw_config", sources: ["cfg#abc"], raw_config_key: "cfg" },
    message: NOT_ALLOWED("alice", "raw_config_keys=cfg"),
  },
  {
    name: "a raw_config key listed in raw_config_keys",
    clients: { users: { alice: { source_types: ["raw_config"], raw_config_keys: ["cfg"] } } },
    identity: who("alice"),
    compose: { source_type: "raw_config", sources: ["cfg#abc"], raw_config_key: "cfg" },
  },
  {
    name: "admins bypass the attribute check (deviation)",
    clients: { users: { root: { source_types: [] } } },
    identity: who("root"),
    compose: { source_type: "pulp", arches: ["ppc64le"] },
  },
  {
    name: "members of an admin group bypass it too",
    clients: { groups: { "odcs-admins": { flags: ["no_deps"] } } },
    identity: who("dave", ["odcs-admins"]),
  },
];

describe("checkComposePermissions (§14.4)", () => {
  test.each(cases)("$name", (c) => {
    const config = configWith(c.clients, c.config);
    expect(
      forbiddenMessage(() => checkComposePermissions(c.identity, compose(c.compose), config)),
    ).toBe(c.message);
  });
});

describe("allowedClientsForAbout", () => {
  test("publishes allowed_clients verbatim, as a copy", () => {
    const config = configWith({
      users: { alice: { source_types: ["tag"] } },
      groups: { devs: { arches: ["x86_64", "aarch64"] } },
    });
    const about = allowedClientsForAbout(config);
    expect(about).toEqual({
      groups: { devs: { arches: ["x86_64", "aarch64"] } },
      users: { alice: { source_types: ["tag"] } },
    });
    about.users.alice?.source_types?.push("module");
    expect(config.ODCS_ALLOWED_CLIENTS.users.alice?.source_types).toEqual(["tag"]);
  });

  test("defaults to empty groups and users", () => {
    expect(allowedClientsForAbout(loadConfig({}))).toEqual({ groups: {}, users: {} });
  });
});
