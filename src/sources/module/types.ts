/**
 * What module resolution (issue 17 items 1, 2) takes and gives: the
 * contract between the resolver (`resolve.ts`, MBS or Koji-only, as
 * reference/modules.md §2–§3 describe) and the `module` Source that builds
 * the compose from it. `resolveModules(request, deps)` in `resolve.ts`
 * returns `ResolvedModule[]` sorted by `nsvc`; the caller stores
 * `nsvcs.join(" ")` back into the compose's `source` (ODCS §10.3).
 */

import type { KojiClient } from "../koji/client.ts";
import type { KojiTop } from "../koji/files.ts";
import type { MbsClient } from "./mbs.ts";

/** One module stream version + context, resolved. */
export interface ResolvedModule {
  name: string;
  stream: string;
  /** The module version (digits, e.g. "8090020231219110341"), as a string: it exceeds 2^53. */
  version: string;
  context: string;
  /** `"name:stream:version:context"`. */
  nsvc: string;
  /**
   * The module's content tag (its RPMs): MBS's `koji_tag`, or Koji's
   * `extra.typeinfo.module.content_koji_tag`.
   */
  kojiTag: string;
  /**
   * The module stream's modulemd v2 YAML document as MBS or Koji gave it
   * (`modulemd_str`), or as rewritten for a `-devel` module (see `develOf`).
   */
  modulemd: string;
  /**
   * Per-arch modulemd YAML (arch → document) from the Koji build's
   * archives (`files/module/modulemd.<arch>.txt`); `{}` when there is no
   * Koji build or it has no such archives (then `modulemd` is the only one).
   */
  archModulemd: Record<string, string>;
  /** `artifacts.rpms` of `modulemd`: NEVRAs `name-epoch:version-release.arch`, all arches, sorted. */
  rpms: string[];
  /** The Koji build of the module (`N-S_-V.C`), or `null` when Koji was not asked or has none. */
  kojiBuildId: number | null;
  /**
   * For a `-devel` module found through its non-devel module (MBS rule,
   * modules.md §2): the non-devel `N:S` it was derived from (its modulemd
   * is renamed and gains a runtime requirement on it); else `null`. Pungi
   * fills a devel module with the content tag's RPMs that are *not* in the
   * non-devel module's artifacts.
   */
  develOf: string | null;
}

/** The compose fields resolution depends on. */
export interface ModuleRequest {
  /** The requested ids (`source` split on spaces): `N:S`, `N:S:V` or `N:S:V:C`. */
  modules: string[];
  /** Flag `no_deps`: do not add the modules they require. */
  noDeps: boolean;
  /** Flag `include_done_modules`: MBS state `done` as well as `ready`. */
  includeDone: boolean;
  baseModuleBrName: string | null;
  baseModuleBrStream: string | null;
  baseModuleBrStreamVersionLte: number | null;
  baseModuleBrStreamVersionGte: number | null;
  /** Non-empty: Koji-only resolution over these tags (no MBS). */
  modularKojiTags: string[];
  /**
   * The Koji event to resolve at (Koji-only resolution needs it; pin it
   * first, e.g. `pinKojiEvent`). Ignored by MBS resolution.
   */
  kojiEvent: number | null;
}

/** What the resolver talks to. */
export interface ModuleResolveDeps {
  /** Required for MBS resolution (no `modularKojiTags`). */
  mbs?: MbsClient;
  /**
   * Required for Koji-only resolution; with MBS resolution, optional: when
   * given, each module's Koji build is looked up for `kojiBuildId` and
   * `archModulemd`.
   */
  koji?: KojiClient;
  /** Where per-arch modulemd archives are read from (with `koji`). */
  kojiTop?: KojiTop;
  /** Names of base modules, never composed (ODCS `base_module_names`). */
  baseModuleNames?: readonly string[];
  /** Per Koji file read (archives). */
  timeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}
