import type { ComposeRow } from "../db/schema.ts";
import { COMPOSE_STATES, FLAGS } from "./states.ts";
import { REASONS } from "./transitions.ts";

/**
 * Compose reuse (§12): a new compose whose inputs equal those of an older
 * one that is done (or still generating) takes that one's result instead of
 * being built. Pure: what "equal inputs" means, what a pin is, and which
 * requested packages a reused package set lacks.
 */

/**
 * One text per JSON value, whatever the key order of its objects: how the
 * pinned inputs of a compose (`Source.resolve`'s result — repomd checksums
 * for `repo`, a Koji event …) are stored in `source_pins` and compared.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)),
        )
      : v,
  );
}

/**
 * The default "is the candidate still what the new compose would get":
 * both were pinned to the same inputs. Null pins (a compose from before
 * pinning) never match.
 */
export function samePins(candidatePins: string | null, resolved: unknown): boolean {
  return candidatePins !== null && candidatePins === canonicalJson(resolved);
}

/** Whether compose `c` may reuse another one at all (§12: never with `no_reuse`). */
export function mayReuse(c: Pick<ComposeRow, "flags" | "sourceType">): boolean {
  return (c.flags & FLAGS.no_reuse) === 0;
}

const itemSet = (v: string | null) =>
  [...new Set((v ?? "").split(" ").filter((s) => s !== ""))].sort().join(" ");

/**
 * Compared as sets of space-separated items (§12; empty and null are the
 * same empty set). `sigkeys` is deliberately not among them although ODCS
 * compares it as a set: its order is the signing-key preference, which
 * decides which signed copy of a package is taken.
 */
const SET_FIELDS = [
  "packages",
  "builds",
  "arches",
  "lookasideRepos",
  "multilibArches",
  "modularKojiTags",
  "scratchModules",
  "modules",
  "scratchBuildTasks",
  "parentPungiComposeIds",
] as const satisfies readonly (keyof ComposeRow)[];

/**
 * Compared exactly (§12), plus `regenerateOf`: a regenerating copy of a
 * removed compose reproduces that compose's package set, not what a fresh
 * solve of the same inputs gives, so only copies of the same compose share.
 */
const EXACT_FIELDS = [
  "sourceType",
  "source",
  "sigkeys",
  "flags",
  "results",
  "moduleDefaultsUrl",
  "respinOf",
  "targetDir",
  "multilibMethod",
  "regenerateOf",
] as const satisfies readonly (keyof ComposeRow)[];

export type ReuseInputs = Pick<
  ComposeRow,
  (typeof SET_FIELDS)[number] | (typeof EXACT_FIELDS)[number] | "kojiEvent"
>;

/**
 * Whether `c` asks for the same compose as `o` (§12), apart from the
 * per-source-type revision check (pins, Koji events). `label`,
 * `compose_type`, owner and lifetime are not compared. If both have a
 * `koji_event`, `c`'s must not be lower than `o`'s (a renewal of an old
 * compose must not take a newer one).
 */
export function sameInputs(c: ReuseInputs, o: ReuseInputs): boolean {
  for (const f of EXACT_FIELDS) if (c[f] !== o[f]) return false;
  for (const f of SET_FIELDS) if (itemSet(c[f]) !== itemSet(o[f])) return false;
  if (c.kojiEvent !== null && o.kojiEvent !== null && c.kojiEvent < o.kojiEvent) return false;
  return true;
}

/**
 * Whether `o` can be reused as a candidate at all at time `now` (§12): it
 * reuses nothing itself, has a smaller id, and is either a live `done`
 * compose (not expired, no removal requested) or is being built (reason
 * exactly "Compose is generating": past the reuse decision).
 */
export function isCandidate(
  c: Pick<ComposeRow, "id">,
  o: Pick<ComposeRow, "id" | "state" | "stateReason" | "reusedId" | "timeToExpire" | "removedBy">,
  now: number,
): boolean {
  if (o.id >= c.id || o.reusedId !== null) return false;
  if (o.state === COMPOSE_STATES.done) return o.timeToExpire >= now && o.removedBy === null;
  return o.state === COMPOSE_STATES.generating && o.stateReason === REASONS.generating;
}

/** Done candidates newest first, then generating ones oldest first (§12). */
export function orderCandidates<T extends Pick<ComposeRow, "id" | "state">>(rows: T[]): T[] {
  const done = rows.filter((r) => r.state === COMPOSE_STATES.done).sort((a, b) => b.id - a.id);
  const generating = rows
    .filter((r) => r.state === COMPOSE_STATES.generating)
    .sort((a, b) => a.id - b.id);
  return [...done, ...generating];
}

const globRe = (glob: string) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/**
 * The requested package items (`packages` of the new compose) that the
 * reused package set does not satisfy by name, `name.arch` or name glob
 * (§12 validates a reusing compose against the reused one's metadata).
 * Items naming a provide (a path or a `name(…)` capability) cannot be told
 * from names alone and count as present: the reused compose resolved the
 * same request from the same metadata.
 */
export function missingRequested(
  packages: string | null,
  rpms: readonly { name: string; arch: string }[],
): string[] {
  if (packages === null) return [];
  const names = new Set(rpms.map((r) => r.name));
  const nameArches = new Set(rpms.map((r) => `${r.name}.${r.arch}`));
  return packages
    .split(" ")
    .filter((item) => item !== "")
    .filter((item) => {
      if (item.includes("/") || item.includes("(")) return false;
      if (names.has(item) || nameArches.has(item)) return false;
      if (/[*?]/.test(item)) {
        const re = globRe(item);
        return ![...names].some((n) => re.test(n));
      }
      return true;
    });
}
