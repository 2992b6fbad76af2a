/**
 * Request checks of `pulp` composes (ODCS type 4; pure). The source items
 * are Pulp content sets or repo ids, looked up at generation; ODCS's own
 * checks (an empty source, the character whitelist) run before this. A
 * pulp compose only points at published repositories, so the fields that
 * choose or add packages would do nothing: they are refused, as every
 * no-op field is on this server.
 */

import { InvalidRequestError } from "../errors.ts";
import type { SourceRequest } from "./types.ts";

export interface PulpRequestSettings {
  ODCS_PULP_URL?: string | undefined;
}

const NO_OP_FIELDS: [keyof SourceRequest, string][] = [
  ["packages", "packages"],
  ["builds", "builds"],
  ["kojiEvent", "koji_event"],
  ["lookasideRepoList", "lookaside_repos"],
  ["modularKojiTags", "modular_koji_tags"],
  ["moduleDefaultsUrl", "module_defaults_url"],
  ["scratchModules", "scratch_modules"],
  ["modules", "modules"],
  ["scratchBuildTasks", "scratch_build_tasks"],
  ["baseModuleBrName", "base_module_br_name"],
  ["baseModuleBrStream", "base_module_br_stream"],
  ["baseModuleBrStreamVersionLte", "base_module_br_stream_version_lte"],
  ["baseModuleBrStreamVersionGte", "base_module_br_stream_version_gte"],
];

const isSet = (v: unknown) =>
  v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);

/** Throws `InvalidRequestError` (400) for a `pulp` request this server cannot compose. */
export function validatePulpRequest(req: SourceRequest, s: PulpRequestSettings): void {
  if (!s.ODCS_PULP_URL)
    throw new InvalidRequestError(
      'Source type "pulp" is not supported by this server: no Pulp server is configured (ODCS_PULP_URL)',
    );
  // ODCS keeps the empty item of a double space and then fails to find it in Pulp.
  if (req.sourceItems.includes(""))
    throw new InvalidRequestError(
      "Empty content set or repo id: source items are separated by single spaces, with none before or after",
    );
  for (const [field, name] of NO_OP_FIELDS)
    if (isSet(req[field]))
      throw new InvalidRequestError(
        `"${name}" does nothing for "pulp" composes (they point at Pulp repositories as published); leave it out`,
      );
}
