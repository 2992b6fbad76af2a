import { Cron } from "croner";
import { expireComposes, removeOrphanDirs, type SweepDeps } from "./expire.ts";
import { requeueAndFailJobs } from "./requeue.ts";

/** Run the sweep tasks on `pattern` (cron syntax); `protect` skips a tick while one still runs. */
export function scheduleSweep(deps: SweepDeps, pattern: string): Cron {
  return new Cron(
    pattern,
    {
      protect: true,
      catch: (err) => deps.log.error("sweep failed", { err: String(err) }),
    },
    async () => {
      await requeueAndFailJobs(deps);
      await expireComposes(deps);
      await removeOrphanDirs(deps);
    },
  );
}
