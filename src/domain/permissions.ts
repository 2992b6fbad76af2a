import type { Config } from "../config.ts";
import { ForbiddenError } from "./errors.ts";
import type { Identity } from "./identity.ts";

/**
 * ODCS authorization (reference §14.2–§14.4), pure over an identity and the
 * settings. Every function takes `null` for the noauth backend, under which
 * everybody has every role and every check passes.
 */

/** The settings these checks read; a narrow pick so tests can build them literally. */
export type PermissionConfig = Pick<
  Config,
  | "ODCS_OIDC_SCOPE_PREFIX"
  | "ODCS_OIDC_REQUIRE_SCOPES"
  | "ODCS_ALLOWED_CLIENTS"
  | "ODCS_ADMINS"
  | "ODCS_ALLOWED_SOURCE_TYPES"
  | "ODCS_ALLOWED_SOURCES"
  | "ODCS_ALLOWED_FLAGS"
  | "ODCS_ALLOWED_RESULTS"
  | "ODCS_ALLOWED_ARCHES"
  | "ODCS_ALLOWED_COMPOSE_TYPES"
>;

/** The scopes of §14.2, without the `ODCS_OIDC_SCOPE_PREFIX` namespace. */
export type ComposeScope =
  | "new-compose"
  | "renew-compose"
  | "delete-compose"
  // Ours, for POST and DELETE /api/1/uploads/ (README "Uploads").
  | "new-upload"
  | "delete-upload";

/** A per-user or per-group `allowed_clients` entry: attribute key → allowed values. */
export type PermissionEntry = Readonly<Record<string, readonly string[]>>;

/** The `allowed_clients` structure `/api/1/about/` publishes (§16.1). */
export interface AllowedClientsView {
  groups: Record<string, Record<string, string[]>>;
  users: Record<string, Record<string, string[]>>;
}

/**
 * What the per-attribute check compares, as the request handler resolved it:
 * `sources` split on spaces (`[]` or `[""]` for a `build` compose), `flags`
 * and `results` as names, `arches` after applying the default arches,
 * `compose_type` after applying the default (`test`), `target_dir` the name
 * of an extra target dir or `null` for the default dir (and on PATCH, which
 * does not check it), `raw_config_key` the part before `#` of a raw_config
 * source or `null`.
 */
export interface ComposeAttributes {
  source_type: string;
  sources: readonly string[];
  results: readonly string[];
  flags: readonly string[];
  arches: readonly string[];
  compose_type: string;
  target_dir: string | null;
  raw_config_key: string | null;
}

/**
 * 403 unless the token carries `ODCS_OIDC_SCOPE_PREFIX + short`.
 *
 * Only the full (namespaced) scope counts: a bare `new-compose` granted by a
 * shared identity provider for some other service must not open ODCS. An
 * operator whose provider issues bare names sets the prefix to `""`. A
 * backend without scopes (`identity.scopes === null`) and
 * `ODCS_OIDC_REQUIRE_SCOPES=false` skip the check, as ODCS does for
 * non-openidc backends.
 */
export function requireScope(
  identity: Identity | null,
  short: ComposeScope,
  config: PermissionConfig,
): void {
  if (identity === null || identity.scopes === null || !config.ODCS_OIDC_REQUIRE_SCOPES) return;
  if (identity.scopes.includes(config.ODCS_OIDC_SCOPE_PREFIX + short)) return;
  throw new ForbiddenError(`Request does not have required scope ${short}`);
}

/** Whether the caller is in role `allowed_clients`: a `users` key, or one of their groups a `groups` key. */
export function isAllowedClient(identity: Identity | null, config: PermissionConfig): boolean {
  if (identity === null) return true;
  const { users, groups } = config.ODCS_ALLOWED_CLIENTS;
  return (
    Object.hasOwn(users, identity.username) || identity.groups.some((g) => Object.hasOwn(groups, g))
  );
}

/**
 * 403 unless the caller is in role `allowed_clients` (§14.3). Required for
 * create and renew, by admins too: upstream's roles are independent, so an
 * admin who is not an allowed client cannot create (observed, §14.3).
 */
export function requireAllowedClient(identity: Identity | null, config: PermissionConfig): void {
  if (isAllowedClient(identity, config)) return;
  throw new ForbiddenError(`User ${identity?.username} is not in role allowed_clients.`);
}

/** Whether the caller is in role `admins`: listed in `users`, or a member of one of `groups`. */
export function isAdmin(identity: Identity | null, config: PermissionConfig): boolean {
  if (identity === null) return true;
  const { users, groups } = config.ODCS_ADMINS;
  return users.includes(identity.username) || identity.groups.some((g) => groups.includes(g));
}

/** 403 unless the caller is an admin (deleting a compose, §9 step 4). */
export function requireAdmin(identity: Identity | null, config: PermissionConfig): void {
  if (isAdmin(identity, config)) return;
  throw new ForbiddenError(`User ${identity?.username} is not in role admins.`);
}

/**
 * 403 unless the caller may cancel this waiting (or generating) compose: its owner or an
 * admin (§9 step 3). Upstream's message has a literal `%s` where the id
 * belongs (§20 quirk 4); clients do not parse messages, so the id is filled in.
 */
export function requireCancelPermission(
  identity: Identity | null,
  compose: { id: number; owner: string },
  config: PermissionConfig,
): void {
  if (identity === null || identity.username === compose.owner || isAdmin(identity, config)) return;
  throw new ForbiddenError(
    `Compose (id=${compose.id}) can not be canceled, it's owned by someone else.`,
  );
}

/** Attribute keys in the order ODCS checks (and names) them. */
const ATTRIBUTE_KEYS = [
  "source_types",
  "sources",
  "results",
  "flags",
  "arches",
  "compose_types",
  "target_dirs",
  "raw_config_keys",
] as const;
type AttributeKey = (typeof ATTRIBUTE_KEYS)[number];

/**
 * 403 unless some `allowed_clients` entry of the caller permits every
 * attribute of the compose (§14.4):
 *
 * - a `users` entry for the caller is the only candidate (group entries are
 *   then ignored); otherwise every `groups` entry of the caller's groups;
 * - a key missing from an entry defaults to `ODCS_ALLOWED_<KEY>`;
 *   `target_dirs` to none, `raw_config_keys` to none (this service has no
 *   `raw_config_urls`, whose keys upstream uses);
 * - `[""]` allows anything, `[]` nothing; an attribute without values passes;
 * - the first permitting entry wins; if none, the message joins one
 *   `User <u> not allowed to operate with compose with <key>=<value>.` per
 *   offending attribute of each entry (first offending value, duplicates
 *   merged, entries in configuration order);
 * - ODCS quirk kept (§20 quirk 25): the flags always include `no_flags`, so an
 *   entry whose `flags` lack it forbids every compose.
 *
 * Deviation from upstream, on purpose: admins bypass this check (upstream
 * applies it to them too). They still need role `allowed_clients` to create
 * or renew (`requireAllowedClient`), as upstream does.
 */
export function checkComposePermissions(
  identity: Identity | null,
  attrs: ComposeAttributes,
  config: PermissionConfig,
): void {
  if (identity === null || isAdmin(identity, config)) return;
  const user = identity.username;
  const candidates = candidateEntries(identity, config);
  if (candidates.length === 0) {
    throw new ForbiddenError(`User ${user} not allowed to operate with any compose.`);
  }
  const values = attributeValues(attrs);
  const sentences = new Set<string>();
  for (const entry of candidates) {
    const offences = ATTRIBUTE_KEYS.flatMap((key) => {
      const bad = firstDisallowed(values[key], allowedValues(entry, key, config));
      return bad === undefined ? [] : [`${key}=${bad}`];
    });
    if (offences.length === 0) return;
    for (const o of offences) {
      sentences.add(`User ${user} not allowed to operate with compose with ${o}.`);
    }
  }
  throw new ForbiddenError([...sentences].join(" "));
}

/**
 * 403 unless some `allowed_clients` entry of the caller (chosen as in
 * `checkComposePermissions`) allows `source_types=<type>`: uploading RPMs
 * needs what composing from them needs, `source_types: ["upload"]`.
 */
export function requireSourceTypePermission(
  identity: Identity | null,
  type: string,
  config: PermissionConfig,
): void {
  if (identity === null || isAdmin(identity, config)) return;
  const entries = candidateEntries(identity, config);
  if (
    entries.some(
      (e) => firstDisallowed([type], allowedValues(e, "source_types", config)) === undefined,
    )
  )
    return;
  throw new ForbiddenError(
    `User ${identity.username} not allowed to operate with compose with source_types=${type}.`,
  );
}

function candidateEntries(identity: Identity, config: PermissionConfig): PermissionEntry[] {
  const { users, groups } = config.ODCS_ALLOWED_CLIENTS;
  const own = Object.hasOwn(users, identity.username) ? users[identity.username] : undefined;
  if (own !== undefined) return [own];
  const mine = new Set(identity.groups);
  return Object.entries(groups)
    .filter(([name]) => mine.has(name))
    .map(([, entry]) => entry);
}

function attributeValues(attrs: ComposeAttributes): Record<AttributeKey, readonly string[]> {
  return {
    source_types: [attrs.source_type],
    // ODCS splits the stored source string: "" (a build compose) gives [""].
    sources: attrs.sources.length === 0 ? [""] : attrs.sources,
    // The results bitmask always has `repository`, the flags bitmask `no_flags`.
    results: unique(["repository", ...attrs.results]),
    flags: unique(["no_flags", ...attrs.flags]),
    arches: attrs.arches,
    compose_types: [attrs.compose_type],
    target_dirs: attrs.target_dir === null ? [] : [attrs.target_dir],
    raw_config_keys: attrs.raw_config_key === null ? [] : [attrs.raw_config_key],
  };
}

function allowedValues(
  entry: PermissionEntry,
  key: AttributeKey,
  config: PermissionConfig,
): readonly string[] {
  const own = Object.hasOwn(entry, key) ? entry[key] : undefined;
  if (own !== undefined) return own;
  switch (key) {
    case "source_types":
      return config.ODCS_ALLOWED_SOURCE_TYPES;
    case "sources":
      return config.ODCS_ALLOWED_SOURCES;
    case "results":
      return config.ODCS_ALLOWED_RESULTS;
    case "flags":
      return config.ODCS_ALLOWED_FLAGS;
    case "arches":
      return config.ODCS_ALLOWED_ARCHES;
    case "compose_types":
      return config.ODCS_ALLOWED_COMPOSE_TYPES;
    case "target_dirs":
    case "raw_config_keys":
      return [];
  }
}

/** The first value not in `allowed`, or `undefined` when all are (or `allowed` is `[""]`). */
function firstDisallowed(
  values: readonly string[],
  allowed: readonly string[],
): string | undefined {
  if (allowed.length === 1 && allowed[0] === "") return undefined;
  return values.find((v) => !allowed.includes(v));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** `allowed_clients` as `/api/1/about/` publishes it: the configuration verbatim, copied. */
export function allowedClientsForAbout(config: PermissionConfig): AllowedClientsView {
  const copy = (
    m: Readonly<Record<string, PermissionEntry>>,
  ): Record<string, Record<string, string[]>> =>
    Object.fromEntries(
      Object.entries(m).map(([name, entry]) => [
        name,
        Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, [...v]])),
      ]),
    );
  return {
    groups: copy(config.ODCS_ALLOWED_CLIENTS.groups),
    users: copy(config.ODCS_ALLOWED_CLIENTS.users),
  };
}
