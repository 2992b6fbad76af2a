/**
 * Request checks of `tag` and `build` composes (pure; the API runs them
 * after the generic ODCS checks). Module composes are a later issue, so
 * their fields are refused here rather than accepted and ignored.
 */

import { InvalidRequestError } from "../errors.ts";
import type { SourceRequest } from "./types.ts";

export interface KojiRequestSettings {
  ODCS_KOJI_HUB_URL?: string | undefined;
}

/**
 * A Koji build NVR: name-version-release, where version and release have no
 * `-` (the name may). Koji refuses anything else with "invalid format".
 */
export const NVR_RE = /^[^\s/]+-[^\s/-]+-[^\s/-]+$/;

/** The module fields of a request, as (request key, wire name); only `module` composes use them. */
export const MODULE_FIELDS: [keyof SourceRequest, string][] = [
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

/** Throws `InvalidRequestError` (400) for a `tag`/`build` request this server cannot compose. */
export function validateKojiRequest(req: SourceRequest, s: KojiRequestSettings): void {
  const type = req.sourceTypeName;
  if (!s.ODCS_KOJI_HUB_URL)
    throw new InvalidRequestError(
      `Source type "${type}" is not supported by this server: no Koji hub is configured (ODCS_KOJI_HUB_URL)`,
    );
  for (const [field, name] of MODULE_FIELDS) {
    const v = req[field];
    if (v !== null && v !== "")
      throw new InvalidRequestError(
        `"${name}" is not supported by this server yet (module composes); leave it out of "${type}" composes`,
      );
  }
  const builds = req.builds ? req.builds.split(" ").filter((b) => b !== "") : [];
  for (const nvr of builds)
    if (!NVR_RE.test(nvr))
      throw new InvalidRequestError(
        `Invalid NVR "${nvr}" in builds: expected name-version-release`,
      );
  if (type === "tag" && req.sourceItems.length !== 1)
    throw new InvalidRequestError(
      `A "tag" compose takes one Koji tag in "source", not ${req.sourceItems.length}: ${req.sourceItems.join(" ")}`,
    );
  if (type === "build") {
    if (builds.length === 0)
      throw new InvalidRequestError(
        'A "build" compose needs "builds": the NVRs of the Koji builds to compose',
      );
    if (req.sourceItems.some((i) => i !== ""))
      throw new InvalidRequestError(
        'A "build" compose takes its builds from "builds"; "source" must be empty',
      );
  }
}
