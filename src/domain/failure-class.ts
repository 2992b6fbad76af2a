/** Classes of compose failures for the failures metric (a bounded label set). */
export const FAILURE_CLASSES = [
  "canceled",
  "timeout",
  "dependencies",
  "signature",
  "source",
  "worker",
  "other",
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/**
 * The class of a failed compose's `state_reason`, from the wording our
 * worker, sweep and API use (REASONS, ComposeError messages). Rules are
 * tried in order; anything else is `other`.
 */
export function failureClass(reason: string | null): FailureClass {
  const r = reason ?? "";
  if (/^Canceled by /.test(r)) return "canceled";
  if (/timed? ?out|took longer than/i.test(r)) return "timeout";
  if (/depend|unresolv|nothing provides|missing/i.test(r)) return "dependencies";
  if (/sigkey|signature|signed/i.test(r)) return "signature";
  if (/repo|repomd|metadata|download|fetch|HTTP|koji|source|not found|no such/i.test(r))
    return "source";
  if (/attempt|lease|worker|died/i.test(r)) return "worker";
  return "other";
}
