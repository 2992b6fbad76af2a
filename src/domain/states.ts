/**
 * ODCS enumerations. The numeric codes and bit values are part of the ODCS
 * wire format and of stored rows (reference/odcs-api.md §2).
 */

export const COMPOSE_STATES = {
  wait: 0,
  generating: 1,
  done: 2,
  removed: 3,
  failed: 4,
} as const;
export type ComposeStateName = keyof typeof COMPOSE_STATES;
export type ComposeState = (typeof COMPOSE_STATES)[ComposeStateName];
export const STATE_NAMES = Object.keys(COMPOSE_STATES) as ComposeStateName[];

export function stateName(code: number): ComposeStateName {
  const name = STATE_NAMES.find((n) => COMPOSE_STATES[n] === code);
  if (name === undefined) throw new Error(`unknown compose state ${code}`);
  return name;
}

export const SOURCE_TYPES = {
  tag: 1,
  module: 2,
  repo: 3,
  pulp: 4,
  raw_config: 5,
  build: 6,
  pungi_compose: 7,
  /** Ours, not ODCS's: RPMs sent to POST /api/1/uploads/ (README "Uploads"). */
  upload: 8,
} as const;
export type SourceTypeName = keyof typeof SOURCE_TYPES;
export const SOURCE_TYPE_NAMES = Object.keys(SOURCE_TYPES) as SourceTypeName[];

export function sourceTypeName(code: number): SourceTypeName {
  const name = SOURCE_TYPE_NAMES.find((n) => SOURCE_TYPES[n] === code);
  if (name === undefined) throw new Error(`unknown source type ${code}`);
  return name;
}

export const FLAGS = {
  no_flags: 0,
  no_deps: 1,
  no_inheritance: 2,
  include_unpublished_pulp_repos: 4,
  check_deps: 8,
  include_done_modules: 16,
  ignore_absent_pulp_repos: 32,
  no_reuse: 64,
  use_only_compatible_arch: 128,
} as const;
export type FlagName = keyof typeof FLAGS;

export const RESULTS = { repository: 1, iso: 2, ostree: 4, "boot.iso": 8 } as const;
export type ResultName = keyof typeof RESULTS;

export const MULTILIB_METHODS = { none: 0, runtime: 1, devel: 2, all: 4 } as const;
export type MultilibMethodName = keyof typeof MULTILIB_METHODS;

/** Names of the bits set in `mask`, in table order; bit 0 names are never listed. */
export function bitNames<T extends Record<string, number>>(
  table: T,
  mask: number,
): (keyof T & string)[] {
  return (Object.keys(table) as (keyof T & string)[]).filter((n) => {
    const bit = table[n] ?? 0;
    return bit !== 0 && (mask & bit) === bit;
  });
}

export function toMask<T extends Record<string, number>>(
  table: T,
  names: readonly (keyof T)[],
): number {
  return names.reduce((m, n) => m | (table[n] ?? 0), 0);
}

export const DONE_OR_FAILED: readonly ComposeStateName[] = ["done", "failed"];
