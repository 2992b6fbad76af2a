/**
 * The request bodies the ODCS CLI sends for each `create*` command (§19),
 * built as its `ComposeSource*` helpers and `new_compose()` build them
 * (§18): optional fields only when truthy, lists appended by repeated
 * options, `--sigkey none` → "".
 */

export interface CreateOptions {
  sigkey?: string[];
  kojiEvent?: number;
  arch?: string[];
  moduleDefaultsUrl?: string;
  moduleDefaultsCommit?: string;
  modularTag?: string[];
  lookasideRepo?: string[];
  targetDir?: string;
  build?: string[];
  flag?: string[];
  scratchModule?: string[];
  result?: string[];
  label?: string;
  composeType?: string;
  multilibArch?: string[];
  multilibMethod?: string[];
  baseModuleBrName?: string;
  baseModuleBrStream?: string;
  baseModuleBrStreamVersionLte?: number;
  baseModuleBrStreamVersionGte?: number;
}

type Body = Record<string, unknown>;

const truthy = (v: unknown) =>
  Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== "" && v !== 0;

function pick(entries: [string, unknown][]): Body {
  return Object.fromEntries(entries.filter(([, v]) => truthy(v)));
}

/** ODCS's CLI removes every "none" from each --sigkey value ("none" → "" = unsigned allowed). */
export const sigkeys = (o: CreateOptions) => (o.sigkey ?? []).map((k) => k.replaceAll("none", ""));

/** The top-level fields every create command sets from its options (`request_args`). */
function requestArgs(o: CreateOptions): Body {
  return pick([
    ["flags", o.flag],
    ["arches", o.arch],
    ["lookaside_repos", o.lookasideRepo],
    ["label", o.label],
    ["compose_type", o.composeType],
    ["target_dir", o.targetDir],
  ]);
}

function withSource(source: Body, o: CreateOptions, extra: Body = {}): Body {
  return { source, ...requestArgs(o), ...extra };
}

export function tagRequest(tag: string, packages: string[], o: CreateOptions): Body {
  return withSource(
    {
      source: tag,
      type: "tag",
      ...pick([
        ["packages", packages],
        ["builds", o.build],
        ["sigkeys", sigkeys(o)],
        ["koji_event", o.kojiEvent],
        ["modular_koji_tags", o.modularTag],
        ["module_defaults_url", o.moduleDefaultsUrl],
        ["module_defaults_commit", o.moduleDefaultsCommit],
        ["scratch_modules", o.scratchModule],
      ]),
    },
    o,
  );
}

export function buildRequest(nvrs: string[], o: CreateOptions): Body {
  return withSource(
    { source: "", type: "build", builds: nvrs, ...pick([["sigkeys", sigkeys(o)]]) },
    o,
  );
}

export function moduleRequest(modules: string[], o: CreateOptions): Body {
  return withSource(
    {
      source: modules.join(" "),
      type: "module",
      ...pick([
        ["sigkeys", sigkeys(o)],
        ["module_defaults_url", o.moduleDefaultsUrl],
        ["module_defaults_commit", o.moduleDefaultsCommit],
        ["scratch_modules", o.scratchModule],
        ["base_module_br_name", o.baseModuleBrName],
        ["base_module_br_stream", o.baseModuleBrStream],
        ["base_module_br_stream_version_lte", o.baseModuleBrStreamVersionLte],
        ["base_module_br_stream_version_gte", o.baseModuleBrStreamVersionGte],
        ["modular_koji_tags", o.modularTag],
      ]),
    },
    o,
  );
}

export function pulpRequest(contentSets: string[], o: CreateOptions): Body {
  return withSource({ source: contentSets.join(" "), type: "pulp" }, o);
}

export function rawConfigRequest(name: string, commit: string, o: CreateOptions): Body {
  return withSource(
    {
      source: `${name}#${commit}`,
      type: "raw_config",
      ...pick([
        ["koji_event", o.kojiEvent],
        ["sigkeys", sigkeys(o)],
        ["builds", o.build],
      ]),
    },
    o,
  );
}

/** Not in ODCS's CLI: a `repo` compose of yum repositories (space-separated paths or URLs). */
export function repoRequest(sources: string[], packages: string[], o: CreateOptions): Body {
  return withSource(
    {
      source: sources.join(" "),
      type: "repo",
      ...pick([
        ["packages", packages],
        ["sigkeys", sigkeys(o)],
      ]),
    },
    o,
    pick([
      ["multilib_arches", o.multilibArch],
      ["multilib_method", o.multilibMethod],
    ]),
  );
}

/** Not in ODCS's CLI: an `upload` compose of one upload (`odcs upload` printed its id). */
export function uploadRequest(uploadId: string, packages: string[], o: CreateOptions): Body {
  return withSource(
    { source: uploadId, type: "upload", ...pick([["packages", packages]]) },
    o,
    pick([
      ["multilib_arches", o.multilibArch],
      ["multilib_method", o.multilibMethod],
    ]),
  );
}

/** The deprecated `create` (ODCS's `new_compose()`): results too, no builds positional. */
export function legacyRequest(
  sourceType: string,
  source: string,
  packages: string[],
  o: CreateOptions,
): Body {
  return withSource(
    {
      source,
      type: sourceType,
      ...pick([
        ["packages", packages],
        ["sigkeys", sigkeys(o)],
        ["koji_event", o.kojiEvent],
        ["modular_koji_tags", o.modularTag],
        ["module_defaults_url", o.moduleDefaultsUrl],
        ["module_defaults_commit", o.moduleDefaultsCommit],
        ["scratch_modules", o.scratchModule],
      ]),
    },
    o,
    pick([["results", o.result]]),
  );
}
