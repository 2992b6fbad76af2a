import type { z } from "zod";
import { InvalidRequestError } from "./errors.ts";
import { checkFlagsSupported } from "./flag-support.ts";
import { ARCH_RE } from "./names.ts";
import { CreateComposeBody, firstIssueMessage, sourceItems } from "./request-schemas.ts";
import { validateSourceRequest } from "./sources/index.ts";
import type { KojiRequestSettings } from "./sources/koji.ts";
import type { ModuleRequestSettings } from "./sources/module.ts";
import type { PulpRequestSettings } from "./sources/pulp.ts";
import type { RepoSourcePolicy } from "./sources/repo.ts";
import {
  FLAGS,
  type FlagName,
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
export interface RequestSettings
  extends RepoSourcePolicy,
    KojiRequestSettings,
    ModuleRequestSettings,
    PulpRequestSettings {
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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const joinOrNull = (list: string[] | undefined) => (list === undefined ? null : list.join(" "));

/**
 * `seconds_to_live` as ODCS reads it (§11.1): the hyphenated legacy key only
 * when the underscored one is absent; falsy (`0`, `false`, `""`) means the
 * default; the legacy key also takes integer strings and truncates floats,
 * as Python's `int()` does; above the server's maximum means the maximum
 * (`min(value, max)`, as upstream). Deviation (deliberate): a negative value
 * is refused with a 400 — upstream accepts it and the compose expires as
 * soon as it is done, which no client means.
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
  return Math.min(n, s.ODCS_MAX_SECONDS_TO_LIVE);
}

/** `body` as `schema` types it; else `InvalidRequestError` with the message of its first issue. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new InvalidRequestError(firstIssueMessage(r.error));
  return r.data;
}

/**
 * Parse and check a POST body (already JSON-decoded) the way ODCS does
 * (§7.1 steps 4–17, same messages and order), then our own stricter checks:
 * the schema `CreateComposeBody` says what each field may be, the type's
 * validator (`domain/sources/`) what its source may be. The steps before
 * the schema are ODCS's, in its order, and need the whole body (its Python
 * repr is in their messages). Throws `InvalidRequestError`. Deliberate
 * deviations, all towards refusing instead of guessing or crashing:
 * - unknown fields are a 400 (upstream ignores them), so a typo such as
 *   `seconds_to_life` does not silently fall back to a default;
 * - non-object bodies (`[1]`, `"abc"`, `5`) and non-list / non-string list
 *   items are a 400 (upstream: 500);
 * - source types without a validator are refused with a 400 naming the
 *   supported ones: this server cannot generate them yet, and a compose that
 *   can only fail later is worse than an immediate answer;
 * - results other than `repository` likewise; sigkeys must be 8 or 16 hex
 *   digits (or `""`), arches must look like RPM arches, package names must
 *   not contain whitespace or control characters.
 */
export function parseCreateRequest(body: unknown, s: RequestSettings): ComposeRequest {
  if (!body || (Array.isArray(body) && body.length === 0))
    throw new InvalidRequestError("No JSON POST data submitted");
  if (!isObject(body)) throw new InvalidRequestError("The request body must be a JSON object");
  if (Object.keys(body).length === 0) throw new InvalidRequestError("No JSON POST data submitted");
  validateOdcsInput(body);
  const secondsToLive = parseSecondsToLive(body, s);
  if (!isObject(body.source))
    throw new InvalidRequestError(`Invalid source configuration provided: ${pyRepr(body)}`);
  if (!("type" in body.source))
    throw new InvalidRequestError(
      `Missing type in source configuration, received: ${pyRepr(body.source)}`,
    );
  const b = parseBody(CreateComposeBody, body);
  const src = b.source;
  const sourceTypeName = src.type as SourceTypeName;
  const items = sourceItems(src.source);
  const flagNames = (b.flags ?? []) as FlagName[];
  checkFlagsSupported(sourceTypeName, flagNames);
  const resultNames = (b.results ?? []) as ResultName[];
  const multilibNames = (b.multilib_method ?? []) as MultilibMethodName[];
  const archList = b.arches?.length ? b.arches : [...s.ODCS_ARCHES];
  for (const a of archList)
    if (!ARCH_RE.test(a)) throw new InvalidRequestError(`Invalid arch "${a}"`);
  const lookasideRepoList = b.lookaside_repos ?? [];
  const defaultsUrl = src.module_defaults_url ?? "";
  const defaultsCommit = src.module_defaults_commit ?? "";
  const req: ComposeRequest = {
    sourceType: SOURCE_TYPES[sourceTypeName],
    sourceTypeName,
    sourceItems: items,
    source: items.join(" "),
    secondsToLive,
    flags: toMask(FLAGS, flagNames),
    flagNames,
    results: toMask(RESULTS, resultNames) | RESULTS.repository,
    resultNames: [...new Set<ResultName>(["repository", ...resultNames])],
    arches: archList.join(" "),
    archList,
    packages: joinOrNull(src.packages),
    builds: joinOrNull(src.builds),
    sigkeys: (src.sigkeys ?? [...s.ODCS_SIGKEYS]).join(" "),
    kojiEvent: src.koji_event ?? null,
    multilibArches: (b.multilib_arches ?? []).join(" "),
    multilibMethod: toMask(MULTILIB_METHODS, multilibNames),
    lookasideRepos: lookasideRepoList.join(" "),
    lookasideRepoList,
    label: b.label ?? null,
    composeType: b.compose_type ?? "test",
    targetDir: "default",
    modularKojiTags: joinOrNull(src.modular_koji_tags),
    moduleDefaultsUrl: defaultsUrl ? `${defaultsUrl} ${defaultsCommit}` : null,
    scratchModules: joinOrNull(src.scratch_modules),
    parentPungiComposeIds: joinOrNull(b.parent_pungi_compose_ids),
    scratchBuildTasks: joinOrNull(src.scratch_build_tasks),
    modules: joinOrNull(src.modules),
    respinOf: b.respin_of === undefined ? null : String(b.respin_of),
    baseModuleBrName: src.base_module_br_name ?? null,
    baseModuleBrStream: src.base_module_br_stream ?? null,
    baseModuleBrStreamVersionLte: src.base_module_br_stream_version_lte ?? null,
    baseModuleBrStreamVersionGte: src.base_module_br_stream_version_gte ?? null,
  };
  validateSourceRequest(req, s);
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
