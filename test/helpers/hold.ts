import type { JobPoint } from "../../src/worker/handlers/types.ts";

/**
 * Hold a worker's job at one point (`WorkerOptions.at`): `at` is the seam to
 * give the worker, `reached` resolves once a job got there, and the job
 * waits until the test calls `go`.
 */
export function holdAt(point: JobPoint) {
  let arrive!: () => void;
  let go!: () => void;
  const reached = new Promise<void>((r) => {
    arrive = r;
  });
  const resume = new Promise<void>((r) => {
    go = r;
  });
  const at = async (p: JobPoint) => {
    if (p !== point) return;
    arrive();
    await resume;
  };
  return { at, reached, go };
}
