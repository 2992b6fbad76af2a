import { listComposeRpms } from "../db/compose-rpms.ts";
import { followGeneratingCompose, listReuseCandidates, reuseDoneCompose } from "../db/composes.ts";
import { completeJob } from "../db/jobs.ts";
import type { ComposeRow } from "../db/schema.ts";
import {
  isCandidate,
  mayReuse,
  missingRequested,
  orderCandidates,
  type SourcePins,
  sameInputs,
  serializePins,
} from "../domain/reuse.ts";
import { COMPOSE_STATES, type SourceTypeName, sourceTypeName } from "../domain/states.ts";
import { pinRepoCompose, repoCandidateValid } from "../sources/repo-pins.ts";
import { ComposeError, LeaseLostError } from "./errors.ts";
import type { JobContext } from "./handlers/types.ts";
import { list } from "./pipeline/select-arches.ts";

/** The pinned inputs of a compose about to be generated. */
export interface Pinned {
  pins: SourcePins;
  /** `repo` sources: the repomd.xml each pin was taken from, to build from exactly it. */
  repomds?: ReadonlyMap<string, Uint8Array>;
}

/**
 * How one source type takes part in reuse: pin a new compose's inputs
 * cheaply, and tell whether a candidate with equal request inputs
 * (`domain/reuse.ts sameInputs`) still has what the new compose would get
 * — equal repomd checksums for `repo`; for `tag`, the hub's
 * `tagChangedSinceEvent` for the candidate's `koji_event`.
 */
export interface ReusePolicy {
  pin(compose: ComposeRow, ctx: JobContext, log: (line: string) => void): Promise<Pinned>;
  stillValid(candidate: ComposeRow, pinned: Pinned, ctx: JobContext): Promise<boolean>;
}

/** Source types without an entry never reuse and are never reused. */
export const REUSE_POLICIES: Partial<Record<SourceTypeName, ReusePolicy>> = {
  repo: {
    pin: (compose, ctx, log) => {
      for (const item of list(compose.source)) log(`pinning source ${item} (its repomd.xml)`);
      for (const item of list(compose.lookasideRepos))
        log(`pinning lookaside repo ${item} (its repomd.xml)`);
      return pinRepoCompose(compose, {
        policy: ctx.config,
        cache: ctx.cache,
        signal: ctx.signal,
        downloadTimeoutMs: ctx.config.ODCS_DOWNLOAD_TIMEOUT_MS,
      });
    },
    stillValid: async (candidate, pinned) => repoCandidateValid(candidate, pinned.pins),
  },
};

export type ReuseDecision =
  /** Done at once, reusing `of` (a done compose). */
  | { kind: "reused"; of: number }
  /** Follows `of`, still generating; the cascade settles it. */
  | { kind: "following"; of: number }
  /** No compose to reuse: build it, from `pinned` when the inputs could be pinned. */
  | { kind: "build"; pinned?: Pinned; note: string };

/**
 * The reuse step of the generate job (§12), before anything is built.
 * Pins the compose's inputs, looks for an older compose with equal inputs
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
  const policy = REUSE_POLICIES[sourceTypeName(compose.sourceType)];
  if (!policy) return { kind: "build", note: "this source type does not take part in reuse" };
  let pinned: Pinned;
  try {
    pinned = await policy.pin(compose, ctx, opts.log);
  } catch (err) {
    return { kind: "build", note: `inputs not pinned: ${(err as Error).message}` };
  }
  if (!mayReuse(compose)) return { kind: "build", pinned, note: "no_reuse: not reusing" };
  if (!opts.allowReuse)
    return { kind: "build", pinned, note: "past the reuse decision (a retry): building" };
  const now = ctx.now().getTime();
  const candidates = orderCandidates(
    (await listReuseCandidates(ctx.db, compose, now)).filter(
      (o) => isCandidate(compose, o, now) && sameInputs(compose, o),
    ),
  );
  const pins = serializePins(pinned.pins);
  for (const o of candidates) {
    if (!(await policy.stillValid(o, pinned, ctx))) continue;
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
  return {
    kind: "build",
    pinned,
    note: `inputs pinned (${Object.values(pinned.pins).length}); no compose to reuse`,
  };
}
