import type { ComposeRow } from "../db/schema.ts";
import { parseRepoLocation, type RepoSourcePolicy } from "../domain/repo-source.ts";
import { parsePins, pinsEqual, type SourcePins } from "../domain/reuse.ts";
import { sha256Hex } from "../rpm/decompress.ts";
import { readRepomd } from "./repo.ts";
import type { RepodataCache } from "./repodata-cache.ts";

export interface RepoPinContext {
  policy: RepoSourcePolicy;
  cache: RepodataCache;
  signal: AbortSignal;
  downloadTimeoutMs: number;
}

/** The pins of a `repo` compose and the repomd.xml bytes they were taken from. */
export interface RepoPins {
  pins: SourcePins;
  /** By location as written; the compose is then built from exactly these. */
  repomds: ReadonlyMap<string, Uint8Array>;
}

const items = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

/**
 * Pin every source and lookaside repository of a `repo` compose to the
 * sha256 of its repomd.xml: one small read or GET each. repomd names every
 * other metadata file by checksum, so equal pins mean equal metadata.
 */
export async function pinRepoCompose(
  compose: Pick<ComposeRow, "source" | "lookasideRepos">,
  ctx: RepoPinContext,
): Promise<RepoPins> {
  const all = [...new Set([...items(compose.source), ...items(compose.lookasideRepos)])];
  const read = await Promise.all(
    all.map(
      async (item) => [item, await readRepomd(parseRepoLocation(item, ctx.policy), ctx)] as const,
    ),
  );
  return {
    pins: Object.fromEntries(read.map(([item, bytes]) => [item, `sha256:${sha256Hex(bytes)}`])),
    repomds: new Map(read),
  };
}

/** A `repo` candidate is still what the new compose would get when its stored pins are equal. */
export function repoCandidateValid(candidate: Pick<ComposeRow, "sourcePins">, pins: SourcePins) {
  const stored = parsePins(candidate.sourcePins);
  return stored !== undefined && pinsEqual(stored, pins);
}
