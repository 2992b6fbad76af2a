/**
 * Hardlinks from the Koji top dir or the download cache into a compose, on
 * the placement thread: the pipeline asks for every file of an arch at
 * once, and the thread gets them in one message per tick (as local repo
 * sources do), each directory made once.
 */

import { sharedFilePlacer } from "../../worker/tools/file-placer.ts";
import type { PlaceRequest, PlaceResult } from "../../worker/tools/place-files.ts";

export function batchedLinker(
  allowedRoots: readonly string[],
): (r: PlaceRequest) => Promise<PlaceResult> {
  type Waiting = { request: PlaceRequest; settle: (r: PlaceResult | Error) => void };
  let batch: Waiting[] | null = null;
  const flush = async () => {
    const b = batch ?? [];
    batch = null;
    let results: PlaceResult[] | Error;
    try {
      results = await sharedFilePlacer().place(
        b.map((w) => w.request),
        allowedRoots,
      );
    } catch (err) {
      results = err as Error;
    }
    for (const [i, w] of b.entries())
      w.settle(
        results instanceof Error ? results : (results[i] ?? new Error("no placement result")),
      );
  };
  return (request) =>
    new Promise<PlaceResult>((resolve, reject) => {
      if (!batch) {
        batch = [];
        queueMicrotask(() => void flush());
      }
      batch.push({ request, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
}
