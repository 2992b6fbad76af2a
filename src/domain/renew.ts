import type { ComposeRow, NewComposeRow } from "../db/schema.ts";
import { parseBody } from "./compose-request.ts";
import { RenewComposeBody } from "./request-schemas.ts";
import { COMPOSE_STATES } from "./states.ts";

/** What a PATCH body (§8.2) may change. */
export interface RenewRequest {
  sigkeys?: string[];
  modules?: string[];
  builds?: string[];
}

/**
 * Read the overrides of a PATCH body already checked by `validateOdcsInput`,
 * with the schema `RenewComposeBody`: `sigkeys` exactly as POST checks them.
 * Deliberate deviation: fields other than §8.2's are refused (upstream
 * ignores them), so `{"seconds_to_life": …}` is not silently a default renewal.
 */
export function parseRenewRequest(body: Record<string, unknown>): RenewRequest {
  const b = parseBody(RenewComposeBody, body);
  const req: RenewRequest = {};
  if (b.sigkeys !== undefined) req.sigkeys = b.sigkeys;
  if (b.source?.modules !== undefined) req.modules = b.source.modules;
  if (b.source?.builds !== undefined) req.builds = b.source.builds;
  return req;
}

/**
 * §8.3: a new compose when the old one is removed/failed or when sigkeys
 * (string comparison), modules or builds are given; otherwise the expiry is
 * extended in place.
 */
export function needsCopy(old: ComposeRow, req: RenewRequest): boolean {
  if (old.state === COMPOSE_STATES.removed || old.state === COMPOSE_STATES.failed) return true;
  if (req.sigkeys !== undefined && req.sigkeys.join(" ") !== old.sigkeys) return true;
  return req.modules !== undefined || req.builds !== undefined;
}

/**
 * The row of the regenerating copy (§8.3), pinned to the old compose's
 * package set: the request's columns as §8.3 lists them, and our pins
 * (`source_pins`, so it recomposes exactly those packages). Named one by
 * one: a column not named here starts empty in the copy, as an outcome of
 * the old compose must (a spread of the old row once carried its chosen
 * `published_attempt` into every copy).
 */
export function copyForRenewal(
  old: ComposeRow,
  req: RenewRequest,
  owner: string,
  now: number,
  secondsToLive: number,
): Omit<NewComposeRow, "id" | "state"> {
  return {
    owner,
    sourceType: old.sourceType,
    source: old.source,
    results: old.results,
    packages: old.packages,
    builds: req.builds?.length ? req.builds.join(" ") : old.builds,
    flags: old.flags,
    kojiEvent: old.kojiEvent,
    sigkeys: req.sigkeys !== undefined ? req.sigkeys.join(" ") : old.sigkeys,
    arches: old.arches,
    multilibArches: old.multilibArches,
    multilibMethod: old.multilibMethod,
    lookasideRepos: old.lookasideRepos,
    modularKojiTags: old.modularKojiTags,
    moduleDefaultsUrl: old.moduleDefaultsUrl,
    label: old.label,
    composeType: old.composeType,
    pungiConfigDump: old.pungiConfigDump,
    targetDir: old.targetDir,
    scratchModules: old.scratchModules,
    parentPungiComposeIds: old.parentPungiComposeIds,
    scratchBuildTasks: old.scratchBuildTasks,
    modules: req.modules?.length ? req.modules.join(" ") : old.modules,
    baseModuleBrName: old.baseModuleBrName,
    baseModuleBrStream: old.baseModuleBrStream,
    baseModuleBrStreamVersionLte: old.baseModuleBrStreamVersionLte,
    baseModuleBrStreamVersionGte: old.baseModuleBrStreamVersionGte,
    sourcePins: old.sourcePins,
    timeSubmitted: now,
    timeToExpire: now + secondsToLive * 1000,
    respinOf: old.pungiComposeId,
    regenerateOf: old.id,
  };
}
