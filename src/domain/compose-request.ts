import { InvalidRequestError } from "./errors.ts";
import { ARCH_RE } from "./names.ts";
import { type KojiRequestSettings, validateKojiRequest } from "./sources/koji.ts";
import {
  FLAGS,
  type FlagName,
  GENERATABLE_SOURCE_TYPES,
  MULTILIB_METHODS,
  type MultilibMethodName,
  RESULTS,
  type ResultName,
  SOURCE_TYPES,
  type SourceTypeName,
  toMask,
} from "./states.ts";
import { validateOdcsInput } from "./validate.ts";

/** Settings the request parser needs (a subset of Config). */
export interface RequestSettings extends KojiRequestSettings {
  ODCS_SECONDS_TO_LIVE: number;
  ODCS_MAX_SECONDS_TO_LIVE: number;
  ODCS_ARCHES: readonly string[];
  ODCS_SIGKEYS: readonly string[];
}

/** What a POST body asks for, ready to be stored (lists space-joined as ODCS stores them). */
export interface ComposeRequest {
  sourceType: number;
  sourceTypeName: SourceTypeName;
  sourceItems: string[];
  source: string;
  secondsToLive: number;
  flags: number;
  flagNames: FlagName[];
  results: number;
  resultNames: ResultName[];
  arches: string;
  archList: string[];
  packages: string | null;
  builds: string | null;
  sigkeys: string;
  kojiEvent: number | null;
  multilibArches: string;
  multilibMethod: number;
  lookasideRepos: string;
  /** The `lookaside_repos` items as sent, each to be checked as a repo location. */
  lookasideRepoList: string[];
  label: string | null;
  composeType: string;
  targetDir: string;
  modularKojiTags: string | null;
  moduleDefaultsUrl: string | null;
  scratchModules: string | null;
  parentPungiComposeIds: string | null;
  scratchBuildTasks: string | null;
  modules: string | null;
  respinOf: string | null;
  baseModuleBrName: string | null;
  baseModuleBrStream: string | null;
  baseModuleBrStreamVersionLte: number | null;
  baseModuleBrStreamVersionGte: number | null;
}

const TOP_KEYS = new Set([
  "source",
  "seconds_to_live",
  "seconds-to-live",
  "flags",
  "results",
  "arches",
  "multilib_arches",
  "multilib_method",
  "lookaside_repos",
  "label",
  "compose_type",
  "target_dir",
  "parent_pungi_compose_ids",
  "respin_of",
]);
const SOURCE_KEYS = new Set([
  "type",
  "source",
  "packages",
  "builds",
  "sigkeys",
  "koji_event",
  "modular_koji_tags",
  "module_defaults_url",
  "module_defaults_commit",
  "scratch_modules",
  "scratch_build_tasks",
  "modules",
  "base_module_br_name",
  "base_module_br_stream",
  "base_module_br_stream_version_lte",
  "base_module_br_stream_version_gte",
]);

/** Upper bounds that keep a single row and its work sane. */
export const MAX_LIST_ITEMS = 10_000;
export const MAX_STRING_LENGTH = 4096;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function stringList(obj: Record<string, unknown>, key: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new InvalidRequestError(`${key} should be a list`);
  if (v.length > MAX_LIST_ITEMS)
    throw new InvalidRequestError(`${key} has more than ${MAX_LIST_ITEMS} items`);
  for (const item of v) {
    if (typeof item !== "string")
      throw new InvalidRequestError(`${key} should be a list of strings`);
    if (item.length > MAX_STRING_LENGTH)
      throw new InvalidRequestError(
        `${key} has an item longer than ${MAX_STRING_LENGTH} characters`,
      );
  }
  return v as string[];
}

function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new InvalidRequestError(`${key} should be a string`);
  if (v.length > MAX_STRING_LENGTH)
    throw new InvalidRequestError(`${key} is longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

function optInt(obj: Record<string, unknown>, key: string, min: number): number | null {
  const v = obj[key];
  if (v === undefined) return null;
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw new InvalidRequestError(`${key} should be an integer`);
  if (v < min) throw new InvalidRequestError(`${key} must be at least ${min}`);
  return v;
}

const joinOrNull = (list: string[] | undefined) => (list === undefined ? null : list.join(" "));

/**
 * `seconds_to_live` as ODCS reads it (§11.1): the hyphenated legacy key only
 * when the underscored one is absent; falsy (`0`, `false`, `""`) means the
 * default; the legacy key also takes integer strings and truncates floats,
 * as Python's `int()` does. Deviation (deliberate): negative values and
 * values above the maximum are refused with a 400 — upstream accepts
 * negatives (the compose expires at once) and silently clamps to the
 * maximum, so the client would not learn that its request was not met.
 */
export function parseSecondsToLive(body: Record<string, unknown>, s: RequestSettings): number {
  let raw: unknown = body.seconds_to_live;
  let key = "seconds_to_live";
  if (raw === undefined) {
    raw = body["seconds-to-live"];
    key = "seconds-to-live";
  }
  if (raw === undefined || raw === 0 || raw === false || raw === "") return s.ODCS_SECONDS_TO_LIVE;
  let n: number;
  if (raw === true) n = 1;
  else if (typeof raw === "number" && Number.isFinite(raw)) n = Math.trunc(raw);
  else if (typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw)) n = Number(raw.trim());
  else
    throw new InvalidRequestError(`Invalid seconds_to_live specified in request: ${pyRepr(body)}`);
  if (n < 0) throw new InvalidRequestError(`${key} must not be negative`);
  if (n === 0) return s.ODCS_SECONDS_TO_LIVE;
  if (n > s.ODCS_MAX_SECONDS_TO_LIVE) {
    throw new InvalidRequestError(
      `${key} must be at most ${s.ODCS_MAX_SECONDS_TO_LIVE} (the server's max_seconds_to_live)`,
    );
  }
  return n;
}

function namesFrom<T extends Record<string, number>>(
  body: Record<string, unknown>,
  key: string,
  table: T,
  message: (name: string) => string,
): (keyof T & string)[] {
  const list = stringList(body, key) ?? [];
  for (const n of list) if (!Object.hasOwn(table, n)) throw new InvalidRequestError(message(n));
  return list as (keyof T & string)[];
}

function rejectUnknownKeys(obj: Record<string, unknown>, known: Set<string>, where: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.has(k)) throw new InvalidRequestError(`Unknown field "${k}"${where}`);
  }
}

/**
 * Parse and check a POST body (already JSON-decoded) the way ODCS does
 * (§7.1 steps 4–17, same messages and order), then our own stricter checks.
 * Throws `InvalidRequestError`. Deliberate deviations, all towards refusing
 * instead of guessing or crashing:
 * - unknown fields are a 400 (upstream ignores them), so a typo such as
 *   `seconds_to_life` does not silently fall back to a default;
 * - non-object bodies (`[1]`, `"abc"`, `5`) and non-list / non-string list
 *   items are a 400 (upstream: 500);
 * - source types other than `repo` are refused with a 400 naming the
 *   supported ones: this server cannot generate them yet, and a compose that
 *   can only fail later is worse than an immediate answer;
 * - results other than `repository` likewise; sigkeys must be 8 or 16 hex
 *   digits (or `""`), arches must look like RPM arches.
 */
export function parseCreateRequest(body: unknown, s: RequestSettings): ComposeRequest {
  if (!body || (Array.isArray(body) && body.length === 0))
    throw new InvalidRequestError("No JSON POST data submitted");
  if (!isObject(body)) throw new InvalidRequestError("The request body must be a JSON object");
  if (Object.keys(body).length === 0) throw new InvalidRequestError("No JSON POST data submitted");
  validateOdcsInput(body);
  const secondsToLive = parseSecondsToLive(body, s);

  const src = body.source;
  if (!isObject(src))
    throw new InvalidRequestError(`Invalid source configuration provided: ${pyRepr(body)}`);
  if (!("type" in src))
    throw new InvalidRequestError(`Missing type in source configuration, received: ${pyRepr(src)}`);
  const typeName = src.type as string;
  if (!Object.hasOwn(SOURCE_TYPES, typeName))
    throw new InvalidRequestError(`Unknown source type "${typeName}"`);
  const sourceTypeName = typeName as SourceTypeName;
  rejectUnknownKeys(body, TOP_KEYS, "");
  rejectUnknownKeys(src, SOURCE_KEYS, " in source");

  const rawSource = optString(src, "source") ?? "";
  const sourceItems = rawSource === "" ? [] : [...new Set(rawSource.split(" "))];
  const scratchModules = stringList(src, "scratch_modules");
  if (
    sourceItems.length === 0 &&
    sourceTypeName !== "build" &&
    !(sourceTypeName === "module" && scratchModules?.length)
  ) {
    throw new InvalidRequestError(`No source provided for ${SOURCE_TYPES[sourceTypeName]}`);
  }
  if (!GENERATABLE_SOURCE_TYPES.includes(sourceTypeName)) {
    throw new InvalidRequestError(
      `Source type "${sourceTypeName}" is not supported by this server yet; supported: ${GENERATABLE_SOURCE_TYPES.join(", ")}`,
    );
  }

  const flagNames = namesFrom(body, "flags", FLAGS, (n) => `Unknown flag ${n}`);
  const resultNames = namesFrom(body, "results", RESULTS, (n) => `Unknown result ${n}`);
  if (resultNames.some((r) => r !== "repository")) {
    throw new InvalidRequestError(`Only the "repository" result is supported by this server`);
  }
  const multilibNames = namesFrom(
    body,
    "multilib_method",
    MULTILIB_METHODS,
    (n) => `Unknown multilib method "${n}"`,
  );

  const defaultsUrl = optString(src, "module_defaults_url") ?? "";
  const defaultsCommit = optString(src, "module_defaults_commit") ?? "";
  if (Boolean(defaultsUrl) !== Boolean(defaultsCommit)) {
    throw new InvalidRequestError(
      'The "module_defaults_url" and "module_defaults_commit" must be used together.',
    );
  }
  const targetDir = optString(body, "target_dir") ?? "";
  if (targetDir !== "" && targetDir !== "default")
    throw new InvalidRequestError(`Unknown "target_dir" "${targetDir}"`);

  const arches = stringList(body, "arches") ?? [];
  const archList = arches.length > 0 ? arches : [...s.ODCS_ARCHES];
  for (const a of archList)
    if (!ARCH_RE.test(a)) throw new InvalidRequestError(`Invalid arch "${a}"`);
  const multilibArches = stringList(body, "multilib_arches") ?? [];
  for (const a of multilibArches)
    if (!ARCH_RE.test(a)) throw new InvalidRequestError(`Invalid arch "${a}"`);

  const sigkeys = stringList(src, "sigkeys") ?? [...s.ODCS_SIGKEYS];
  for (const k of sigkeys) {
    if (k !== "" && !/^[0-9A-Fa-f]{8}([0-9A-Fa-f]{8})?$/.test(k))
      throw new InvalidRequestError(`Invalid sigkey "${k}": expected 8 or 16 hex digits`);
  }
  const lookasideRepoList = stringList(body, "lookaside_repos") ?? [];
  const respin = body.respin_of;
  if (respin !== undefined && typeof respin !== "string" && typeof respin !== "number") {
    throw new InvalidRequestError("respin_of should be a string");
  }

  const req: ComposeRequest = {
    sourceType: SOURCE_TYPES[sourceTypeName],
    sourceTypeName,
    sourceItems,
    source: sourceItems.join(" "),
    secondsToLive,
    flags: toMask(FLAGS, flagNames),
    flagNames,
    results: toMask(RESULTS, resultNames) | RESULTS.repository,
    resultNames: [...new Set<ResultName>(["repository", ...resultNames])],
    arches: archList.join(" "),
    archList,
    packages: joinOrNull(stringList(src, "packages")),
    builds: joinOrNull(stringList(src, "builds")),
    sigkeys: sigkeys.join(" "),
    kojiEvent: optInt(src, "koji_event", 0),
    multilibArches: multilibArches.join(" "),
    multilibMethod: toMask(MULTILIB_METHODS, multilibNames as MultilibMethodName[]),
    lookasideRepos: lookasideRepoList.join(" "),
    lookasideRepoList,
    label: optString(body, "label") ?? null,
    composeType: optString(body, "compose_type") ?? "test",
    targetDir: "default",
    modularKojiTags: joinOrNull(stringList(src, "modular_koji_tags")),
    moduleDefaultsUrl: defaultsUrl ? `${defaultsUrl} ${defaultsCommit}` : null,
    scratchModules: joinOrNull(scratchModules),
    parentPungiComposeIds: joinOrNull(stringList(body, "parent_pungi_compose_ids")),
    scratchBuildTasks: joinOrNull(stringList(src, "scratch_build_tasks")),
    modules: joinOrNull(stringList(src, "modules")),
    respinOf: respin === undefined ? null : String(respin),
    baseModuleBrName: optString(src, "base_module_br_name") ?? null,
    baseModuleBrStream: optString(src, "base_module_br_stream") ?? null,
    baseModuleBrStreamVersionLte: optInt(src, "base_module_br_stream_version_lte", 0),
    baseModuleBrStreamVersionGte: optInt(src, "base_module_br_stream_version_gte", 0),
  };
  if (sourceTypeName === "tag" || sourceTypeName === "build")
    validateKojiRequest({ ...req, sourceTypeName }, s);
  return req;
}

/** A rough Python repr, as upstream puts the request into some messages. */
export function pyRepr(v: unknown): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(", ")}}`;
  }
  return String(v);
}
