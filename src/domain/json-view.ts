import type { ComposeRow } from "../db/schema.ts";
import { bitNames, FLAGS, RESULTS, stateName } from "./states.ts";

/** ODCS datetime: UTC, second precision, `YYYY-MM-DDTHH:MM:SSZ`. */
export function odcsTime(ms: number | null): string | null {
  if (ms === null) return null;
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** ODCS joins the base URL and the compose name with exactly one slash. */
export function joinUrl(base: string, path: string): string {
  return base.endsWith("/") ? `${base}${path}` : `${base}/${path}`;
}

/** Directory / repo name of a compose: a reusing compose lives in the reused one's dir. */
export function composeDirName(row: Pick<ComposeRow, "id" | "reusedId">): string {
  return `odcs-${row.reusedId ?? row.id}`;
}

export interface ViewSettings {
  ODCS_TARGET_DIR_URL: string;
}

/**
 * The compose JSON exactly as ODCS serialises it (§3). `pungi_config_dump`
 * only appears in the single-compose GET.
 */
export function toComposeJson(row: ComposeRow, s: ViewSettings) {
  const name = composeDirName(row);
  const isDefaultDir = row.targetDir === "default";
  const toplevel = isDefaultDir ? joinUrl(s.ODCS_TARGET_DIR_URL, name) : "";
  const repo = toplevel ? `${toplevel}/compose/Temporary` : "";
  const json = {
    arches: row.arches,
    base_module_br_name: row.baseModuleBrName,
    base_module_br_stream: row.baseModuleBrStream,
    base_module_br_stream_version_gte: row.baseModuleBrStreamVersionGte,
    base_module_br_stream_version_lte: row.baseModuleBrStreamVersionLte,
    builds: row.builds,
    compose_type: row.composeType,
    flags: bitNames(FLAGS, row.flags),
    id: row.id,
    koji_event: row.kojiEvent,
    koji_task_id: row.kojiTaskId,
    label: row.label,
    lookaside_repos: row.lookasideRepos,
    modular_koji_tags: row.modularKojiTags,
    module_defaults_url: row.moduleDefaultsUrl,
    modules: row.modules,
    multilib_arches: row.multilibArches,
    multilib_method: row.multilibMethod,
    owner: row.owner,
    packages: row.packages,
    parent_pungi_compose_ids: row.parentPungiComposeIds,
    pungi_compose_id: row.pungiComposeId,
    removed_by: row.removedBy,
    respin_of: row.respinOf,
    result_repo: repo,
    result_repofile: repo ? `${repo}/${name}.repo` : "",
    results: bitNames(RESULTS, row.results),
    scratch_build_tasks: row.scratchBuildTasks,
    scratch_modules: row.scratchModules,
    sigkeys: row.sigkeys,
    source: row.source,
    source_type: row.sourceType,
    state: row.state,
    state_name: stateName(row.state),
    state_reason: row.stateReason,
    target_dir: row.targetDir,
    time_done: odcsTime(row.timeDone),
    time_removed: odcsTime(row.timeRemoved),
    time_started: odcsTime(row.timeStarted),
    time_submitted: odcsTime(row.timeSubmitted),
    time_to_expire: odcsTime(row.timeToExpire),
    toplevel_url: toplevel,
  };
  return json;
}

/** The single-compose GET view: the list view plus `pungi_config_dump`. */
export function toComposeDetailJson(row: ComposeRow, s: ViewSettings) {
  return { ...toComposeJson(row, s), pungi_config_dump: row.pungiConfigDump };
}

export type ComposeJson = ReturnType<typeof toComposeJson>;
