/**
 * From a stored compose and the server's settings to what `resolveModules`
 * takes: the `ModuleRequest` of the compose, and its clients.
 */

import type { ComposeRow } from "../../db/schema.ts";
import { BASE_MODULE_NAMES } from "../../domain/sources/module.ts";
import { FLAGS } from "../../domain/states.ts";
import { ComposeError } from "../errors.ts";
import type { KojiTop } from "../koji/files.ts";
import { type KojiSettings, kojiClient } from "../koji/index.ts";
import { MbsClient } from "./mbs.ts";
import type { ModuleRequest, ModuleResolveDeps } from "./types.ts";

/** The settings module resolution reads (a subset of Config). */
export interface ModuleSettings extends KojiSettings {
  ODCS_MBS_URL?: string | undefined;
  ODCS_MBS_TIMEOUT_MS: number;
}

const listOf = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

/**
 * What `compose` asks to resolve. `kojiEvent` is the compose's; pin it
 * (`pinKojiEvent`) before Koji-only resolution when it is `null`.
 */
export function moduleRequestOf(
  compose: Pick<
    ComposeRow,
    | "source"
    | "flags"
    | "kojiEvent"
    | "modularKojiTags"
    | "baseModuleBrName"
    | "baseModuleBrStream"
    | "baseModuleBrStreamVersionLte"
    | "baseModuleBrStreamVersionGte"
  >,
): ModuleRequest {
  return {
    modules: [...new Set(compose.source.split(" ").filter((x) => x !== ""))],
    noDeps: (compose.flags & FLAGS.no_deps) !== 0,
    includeDone: (compose.flags & FLAGS.include_done_modules) !== 0,
    baseModuleBrName: compose.baseModuleBrName || null,
    baseModuleBrStream: compose.baseModuleBrStream || null,
    baseModuleBrStreamVersionLte: compose.baseModuleBrStreamVersionLte,
    baseModuleBrStreamVersionGte: compose.baseModuleBrStreamVersionGte,
    modularKojiTags: listOf(compose.modularKojiTags),
    kojiEvent: compose.kojiEvent,
  };
}

/** An MBS client for `config`; a `ComposeError` when no MBS is configured. */
export function mbsClient(config: ModuleSettings, signal?: AbortSignal): MbsClient {
  if (!config.ODCS_MBS_URL)
    throw new ComposeError("this server has no MBS configured (ODCS_MBS_URL)");
  return new MbsClient({
    url: config.ODCS_MBS_URL,
    timeoutMs: config.ODCS_MBS_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
}

/** The resolver's clients for `request` under `config`: MBS unless Koji-only, Koji when configured. */
export function moduleResolveDeps(
  request: ModuleRequest,
  config: ModuleSettings,
  opts: { signal?: AbortSignal; log?: (line: string) => void } = {},
): ModuleResolveDeps {
  const top: KojiTop | undefined = config.ODCS_KOJI_TOPDIR
    ? { kind: "dir", dir: config.ODCS_KOJI_TOPDIR }
    : config.ODCS_KOJI_TOPURL
      ? { kind: "url", url: config.ODCS_KOJI_TOPURL }
      : undefined;
  return {
    ...(request.modularKojiTags.length === 0 ? { mbs: mbsClient(config, opts.signal) } : {}),
    ...(config.ODCS_KOJI_HUB_URL ? { koji: kojiClient(config, opts.signal) } : {}),
    ...(top ? { kojiTop: top } : {}),
    baseModuleNames: BASE_MODULE_NAMES,
    timeoutMs: config.ODCS_KOJI_TIMEOUT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  };
}
