import type { Clock } from "../../src/api/deps.ts";

export interface FakeClock extends Clock {
  advance(ms: number): void;
  set(d: Date): void;
}

/** A clock that only moves when told to. */
export function fakeClock(start = new Date("2026-11-21T08:00:00Z")): FakeClock {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    set: (d) => {
      t = d.getTime();
    },
  };
}
