/**
 * Request checks of `module` composes (pure; reference/odcs-api.md §7.1
 * step 12 and modules.md). `moduleIdsError` is ODCS's own check of the
 * ids, run by the request schema in ODCS's order (before flags);
 * `validateModuleRequest` runs after the generic checks and refuses what
 * this server cannot do rather than accept it and ignore it.
 */

import { InvalidRequestError } from "../errors.ts";
import { isAllowedGitUrl } from "./git-url.ts";
import type { SourceRequest } from "./types.ts";

/** ODCS's default `base_module_names`: modules that cannot be composed (they are the platform). */
export const BASE_MODULE_NAMES: readonly string[] = ["platform", "bootstrap"];

export interface ModuleRequestSettings {
  /** MBS base URL, e.g. `https://mbs.example.com/module-build-service`. */
  ODCS_MBS_URL?: string | undefined;
  ODCS_KOJI_HUB_URL?: string | undefined;
  /** Git URL prefixes `module_defaults_url` may name. */
  ODCS_ALLOWED_GIT_URLS?: readonly string[];
}

/** ODCS's message for the first id that is not `N:S[:V[:C]]`, or for a base module; else null. */
export function moduleIdsError(items: readonly string[]): string | null {
  for (const item of items) {
    const nsvc = item.split(":");
    if (nsvc.length < 2)
      return `Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got ${item}`;
    if (BASE_MODULE_NAMES.includes(nsvc[0] ?? ""))
      return `ODCS currently cannot create compose with base modules, but ${nsvc[0]} was requested.`;
  }
  return null;
}

const listOf = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

/** Throws `InvalidRequestError` (400) for a `module` request this server cannot compose. */
export function validateModuleRequest(req: SourceRequest, s: ModuleRequestSettings): void {
  // Stricter than ODCS, whose MBS query would find nothing (or crash on a non-numeric version).
  for (const item of req.sourceItems) {
    const parts = item.split(":");
    if (parts.length > 4 || parts.some((p) => p === ""))
      throw new InvalidRequestError(
        `Module definition must be in "n:s", "n:s:v" or "n:s:v:c" format, but got ${item}`,
      );
    if (parts[2] !== undefined && !/^\d+$/.test(parts[2]))
      throw new InvalidRequestError(
        `Module version must be a number (n:s:v or n:s:v:c), but got ${item}`,
      );
  }
  // Scratch module builds exist only in MBS and as Koji task output (no
  // build, no content tag, no tagged RPMs): out of reach of this server.
  if (req.scratchModules || req.scratchBuildTasks)
    throw new InvalidRequestError(
      'Scratch modules ("scratch_modules", "scratch_build_tasks") are not supported by this server: compose modules that were built for real',
    );
  if (req.builds !== null && req.builds !== "")
    throw new InvalidRequestError(
      '"builds" is not used by "module" composes: name the modules in "source"',
    );
  if (req.modules !== null && req.modules !== "")
    throw new InvalidRequestError(
      '"modules" is not used by "module" composes: name the modules in "source"',
    );
  if (!s.ODCS_KOJI_HUB_URL)
    throw new InvalidRequestError(
      'Source type "module" is not supported by this server: no Koji hub is configured (ODCS_KOJI_HUB_URL)',
    );
  const tags = listOf(req.modularKojiTags);
  if (tags.length === 0 && req.modularKojiTags !== null && req.modularKojiTags !== "")
    throw new InvalidRequestError('"modular_koji_tags" has no tag names');
  if (tags.length === 0 && !s.ODCS_MBS_URL)
    throw new InvalidRequestError(
      'Source type "module" needs "modular_koji_tags" on this server: no MBS is configured (ODCS_MBS_URL)',
    );
  if (req.moduleDefaultsUrl) {
    // Stored as "<url> <commit>" (§7.3); the worker fetches exactly that.
    const url = req.moduleDefaultsUrl.slice(0, req.moduleDefaultsUrl.lastIndexOf(" "));
    const allowed = s.ODCS_ALLOWED_GIT_URLS ?? [];
    if (!isAllowedGitUrl(url, allowed))
      throw new InvalidRequestError(
        allowed.length === 0
          ? `"module_defaults_url" ${url} is not allowed: this server fetches no git repositories (ODCS_ALLOWED_GIT_URLS is empty)`
          : `"module_defaults_url" ${url} is not allowed: not an https, http or file URL under a prefix of ODCS_ALLOWED_GIT_URLS`,
      );
  }
  if (tags.length > 0) {
    const brFields: [unknown, string][] = [
      [req.baseModuleBrName, "base_module_br_name"],
      [req.baseModuleBrStream, "base_module_br_stream"],
      [req.baseModuleBrStreamVersionLte, "base_module_br_stream_version_lte"],
      [req.baseModuleBrStreamVersionGte, "base_module_br_stream_version_gte"],
    ];
    for (const [v, name] of brFields)
      if (v !== null && v !== "")
        throw new InvalidRequestError(
          `"${name}" is an MBS query and does not apply with "modular_koji_tags" (modules are then found in the Koji tags)`,
        );
  }
}
