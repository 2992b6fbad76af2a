import { listComposeRpms } from "../db/compose-rpms.ts";
import { followGeneratingCompose, listReuseCandidates, reuseDoneCompose } from "../db/composes.ts";
import { completeJob } from "../db/jobs.ts";
import type { ComposeRow } from "../db/schema.ts";
import {
  canonicalJson,
  isCandidate,
  mayReuse,
  missingRequested,
  orderCandidates,
  sameInputs,
  samePins,
} from "../domain/reuse.ts";
import { COMPOSE_STATES, type SourceTypeName, sourceTypeName } from "../domain/states.ts";
import { ComposeError } from "../sources/errors.ts";
import { sourceFor } from "../sources/index.ts";
import { tagComposeStillValid } from "../sources/koji/index.ts";
import type { Json } from "../sources/types.ts";
import type { JobContext } from "./handlers/types.ts";
import { LeaseLostError } from "./lease.ts";

/**
 * Whether `candidate`, whose request inputs equal the new compose's
 * (`domain/reuse.ts sameInputs`), still has what the new compose would get
 * now, given the new compose's pinned inputs (`Source.resolve`). One per
 * source type taking part in reuse: `repo` compares the stored pins (the
 * repomd checksums); `tag` asks the hub `tagChangedSinceEvent` for the
 * candidate's `koji_event`.
 */
export type StillValid = (
  candidate: ComposeRow,
  resolved: Json,
  ctx: JobContext,
) => Promise<boolean>;

/** Source types without an entry never reuse (they may still be built and pinned). */
export const REUSE_CHECKS: Partial<Record<SourceTypeName, StillValid>> = {
  repo: async (candidate, resolved) => samePins(candidate.sourcePins, resolved),
  tag: (candidate, resolved, ctx) =>
    tagComposeStillValid(candidate, resolved, ctx.config, ctx.signal),
  // Listed builds never change; the pins hold the request's NVRs, arches and keys.
  build: async (candidate, resolved) => samePins(candidate.sourcePins, resolved),
};

export type ReuseDecision =
  /** Done at once, reusing `of` (a done compose). */
  | { kind: "reused"; of: number }
  /** Follows `of`, still generating; the cascade settles it. */
  | { kind: "following"; of: number }
  /** No compose to reuse: build it, from `resolved` when the inputs could be pinned. */
  | { kind: "build"; resolved?: Json; note: string };

/**
 * The reuse step of the generate job (§12), before anything is built.
 * Pins the compose's inputs (`Source.resolve`), looks for an older compose with equal inputs
 * and pins, and either reuses it (the compose is done or following, and
 * the job complete, in one transaction fenced by the lease) or says to
 * build. An input that cannot be pinned is not an error here: the build
 * reads it next and fails with its own reason. `allowReuse` false (a retry
 * of a compose already past this step, which others may follow) only pins.
 * Throws a `ComposeError`
 * when the reused compose lacks a requested package (§12 validation).
 */
export async function decideReuse(
  compose: ComposeRow,
  ctx: JobContext,
  opts: { allowReuse: boolean; log: (line: string) => void },
): Promise<ReuseDecision> {
  const type = sourceTypeName(compose.sourceType);
  let resolved: Json;
  try {
    resolved = await sourceFor(type).resolve(compose, {
      config: ctx.config,
      cache: ctx.cache,
      signal: ctx.signal,
      log: opts.log,
    });
  } catch (err) {
    return { kind: "build", note: `inputs not pinned: ${(err as Error).message}` };
  }
  const stillValid = REUSE_CHECKS[type];
  if (!stillValid)
    return { kind: "build", resolved, note: `${type} composes do not take part in reuse` };
  if (!mayReuse(compose)) return { kind: "build", resolved, note: "no_reuse: not reusing" };
  if (!opts.allowReuse)
    return { kind: "build", resolved, note: "past the reuse decision (a retry): building" };
  const now = ctx.now().getTime();
  const candidates = orderCandidates(
    (await listReuseCandidates(ctx.db, compose, now)).filter(
      (o) => isCandidate(compose, o, now) && sameInputs(compose, o),
    ),
  );
  const pins = canonicalJson(resolved);
  for (const o of candidates) {
    if (!(await stillValid(o, resolved, ctx))) continue;
    if (o.state === COMPOSE_STATES.done) {
      const missing = missingRequested(compose.packages, await listComposeRpms(ctx.db, o.id));
      if (missing.length > 0)
        throw new ComposeError(
          `The following requested packages are not present in the generated compose: ${missing.join(" ")}.`,
        );
    }
    const t = ctx.now().getTime();
    const took = await ctx.db.transaction(
      async (tx) => {
        const ok =
          o.state === COMPOSE_STATES.done
            ? await reuseDoneCompose(tx, compose, o.id, pins, t)
            : await followGeneratingCompose(tx, compose, o.id, pins);
        if (!ok) return false;
        if (!(await completeJob(tx, ctx.job.id, ctx.workerId, t)))
          throw new LeaseLostError("lease lost while reusing a compose");
        return true;
      },
      { behavior: "immediate" },
    );
    if (took)
      return o.state === COMPOSE_STATES.done
        ? { kind: "reused", of: o.id }
        : { kind: "following", of: o.id };
  }
  return { kind: "build", resolved, note: "inputs pinned; no compose to reuse" };
}
