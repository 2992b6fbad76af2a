import { COMPOSE_STATES, type ComposeStateName } from "./states.ts";

/** Allowed state changes (§10.1); anything else is a bug. */
export const TRANSITIONS: Readonly<Record<ComposeStateName, readonly ComposeStateName[]>> = {
  wait: ["generating", "failed"],
  generating: ["done", "failed"],
  done: ["removed"],
  failed: ["removed"],
  removed: [],
};

export function canTransition(from: ComposeStateName, to: ComposeStateName): boolean {
  return TRANSITIONS[from].includes(to);
}

export const REASONS = {
  started: "Compose thread started",
  generating: "Compose is generating",
  done: "Compose is generated successfully",
  expired: "Compose is expired.",
  removedBy: (user: string) => `Removed by ${user}.`,
  canceledBy: (user: string) => `Canceled by ${user}`,
  error: (detail: string) => `Error while generating compose: ${detail}`,
} as const;

/** Reason recorded on removal: previous reason + newline + why (§10.2). */
export function removalReason(previous: string | null, removedBy: string | null): string {
  const why = removedBy ? REASONS.removedBy(removedBy) : REASONS.expired;
  return previous ? `${previous}\n${why}` : why;
}

export const FINAL_STATES: readonly number[] = [
  COMPOSE_STATES.done,
  COMPOSE_STATES.failed,
  COMPOSE_STATES.removed,
];
