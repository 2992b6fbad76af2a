import { type ComposeStateName, SOURCE_TYPE_NAMES, SOURCE_TYPES } from "../domain/states.ts";

const UNITS: [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
];

/** "3 min ago", "in 2 h", "just now": the largest whole unit. */
export function relativeTime(ms: number, now: number): string {
  const delta = ms - now;
  const abs = Math.abs(delta);
  if (abs < 1000) return "just now";
  for (const [size, unit] of UNITS) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      return delta < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return "just now";
}

/** A duration as "1 h 5 min", "42 s", "350 ms". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** UTC, second precision, as people read it: 2026-12-06 21:51:32 UTC. */
export function absoluteTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function sourceTypeLabel(code: number): string {
  return SOURCE_TYPE_NAMES.find((n) => SOURCE_TYPES[n] === code) ?? String(code);
}

export const STATE_LABELS: Record<ComposeStateName, string> = {
  wait: "waiting",
  generating: "generating",
  done: "done",
  removed: "removed",
  failed: "failed",
};
