import type { ComposeRequest } from "../compose-request.ts";
import type { KojiRequestSettings } from "./koji.ts";
import type { ModuleRequestSettings } from "./module.ts";
import type { PulpRequestSettings } from "./pulp.ts";
import type { RepoSourcePolicy } from "./repo.ts";

/** What a per-type check sees of the request (the parsed, not yet stored, body). */
export type SourceRequest = Pick<
  ComposeRequest,
  | "sourceTypeName"
  | "sourceItems"
  | "packages"
  | "builds"
  | "kojiEvent"
  | "lookasideRepoList"
  | "modularKojiTags"
  | "moduleDefaultsUrl"
  | "scratchModules"
  | "scratchBuildTasks"
  | "modules"
  | "baseModuleBrName"
  | "baseModuleBrStream"
  | "baseModuleBrStreamVersionLte"
  | "baseModuleBrStreamVersionGte"
>;

/** Server settings the per-type checks may use. */
export type SourceRequestSettings = RepoSourcePolicy &
  KojiRequestSettings &
  ModuleRequestSettings &
  PulpRequestSettings;
