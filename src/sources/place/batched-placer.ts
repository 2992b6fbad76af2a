import { sharedFilePlacer } from "./file-placer.ts";
import type { PlaceRequest, PlaceResult } from "./place-files.ts";

/**
 * One placement batch per tick: the pipeline asks for every file of an arch
 * at once, and the placement thread gets them in one message. Files that
 * resolve outside `allowedRoots` are refused, not placed.
 */
export function batchedPlacer(allowedRoots: readonly string[]) {
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
  return (request: PlaceRequest) =>
    new Promise<PlaceResult>((resolve, reject) => {
      if (!batch) {
        batch = [];
        queueMicrotask(() => void flush());
      }
      batch.push({ request, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
}
