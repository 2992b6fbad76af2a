/** Entry of the placement thread (file-placer.ts): runs each job posted to it, in order. */
import { parentPort } from "node:worker_threads";
import type { PlacerJob } from "./file-placer.ts";
import { makeDirsSync, placeFilesSync } from "./place-files.ts";

parentPort?.on("message", (job: PlacerJob & { id: number }) => {
  try {
    if (job.kind === "mkdir") {
      makeDirsSync(job.dirs, job.clear);
      parentPort?.postMessage({ id: job.id, results: [] });
    } else {
      parentPort?.postMessage({
        id: job.id,
        results: placeFilesSync(job.requests, job.allowedRoots),
      });
    }
  } catch (err) {
    parentPort?.postMessage({ id: job.id, error: (err as Error).message });
  }
});
