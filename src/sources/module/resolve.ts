/**
 * Module resolution (reference/modules.md §2–§3): the ids a `module`
 * compose asks for (`N:S`, `N:S:V`, `N:S:V:C`) → the module builds to
 * compose, each with its content tag and modulemd. Through MBS (ODCS's
 * `MBS.get_latest_modules` + `validate_module_list`), or, when
 * `modular_koji_tags` are given, from Koji alone (ODCS's
 * `depsolve_modules`). Error messages are ODCS's where it has one.
 */

import { BASE_MODULE_NAMES } from "../../domain/sources/module.ts";
import { ComposeError } from "../errors.ts";
import { kojiResolve } from "./resolve-koji.ts";
import { mbsResolve } from "./resolve-mbs.ts";
import type { ModuleRequest, ModuleResolveDeps, ResolvedModule } from "./types.ts";

export type { ModuleRequest, ModuleResolveDeps, ResolvedModule } from "./types.ts";

/** ODCS's default `base_module_names`: modules that are never composed. */
export const DEFAULT_BASE_MODULE_NAMES: readonly string[] = BASE_MODULE_NAMES;

/**
 * Resolve `request` to module builds, sorted by `nsvc` (the caller stores
 * their `nsvc`s, space-joined, as the compose's `source`). Base modules are
 * never in the result. Throws `ComposeError` (retryable when MBS or Koji
 * did not answer).
 */
export async function resolveModules(
  request: ModuleRequest,
  deps: ModuleResolveDeps,
): Promise<ResolvedModule[]> {
  const baseNames = new Set(deps.baseModuleNames ?? DEFAULT_BASE_MODULE_NAMES);
  let out: ResolvedModule[];
  if (request.modularKojiTags.length > 0) {
    if (!deps.koji)
      throw new ComposeError(
        "modular_koji_tags need a Koji hub, and this server has none configured (ODCS_KOJI_HUB_URL)",
      );
    if (request.kojiEvent === null)
      throw new Error("resolveModules: Koji-only resolution needs a pinned kojiEvent");
    out = await kojiResolve(request, { ...deps, koji: deps.koji }, baseNames, request.kojiEvent);
  } else {
    if (!deps.mbs)
      throw new ComposeError(
        "module composes need MBS (ODCS_MBS_URL) or modular_koji_tags, and this server has no MBS configured",
      );
    out = await mbsResolve(request, { ...deps, mbs: deps.mbs }, baseNames);
  }
  return out
    .filter((m) => !baseNames.has(m.name))
    .sort((a, b) => (a.nsvc < b.nsvc ? -1 : a.nsvc > b.nsvc ? 1 : 0));
}

export { moduleNvr, nsvcOf } from "./ids.ts";
