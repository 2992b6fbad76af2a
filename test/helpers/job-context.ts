import type { JobRow } from "../../src/db/schema.ts";
import { RepodataCache } from "../../src/sources/repodata-cache.ts";
import type { composeHarness } from "./service.ts";

/**
 * A job context driven by hand, as worker `workerId` that claimed `job`
 * would have (by default one that lost its lease and does not know it yet).
 */
export function handJobContext(
  h: Awaited<ReturnType<typeof composeHarness>>,
  job: JobRow,
  workerId = "stale",
) {
  return {
    db: h.db,
    config: h.config,
    now: () => h.clock.now(),
    workerId,
    job,
    cache: new RepodataCache(1 << 20),
    signal: new AbortController().signal,
    assertLease: async () => {},
    composeChanged: () => {},
  };
}
