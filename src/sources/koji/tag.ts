/**
 * A Koji tag pinned to an event (reference/koji.md §5, the recipe ODCS and
 * Pungi follow): the event from the request or the hub's last event, the
 * tag checked at that event, then `listTaggedRPMS(tag, event, inherit,
 * latest=True)`.
 *
 * Listings are kept in memory: a compose that names no event reuses the
 * newest listing of the same tag when neither the tag nor a tag it inherits
 * from changed since (`tagChangedSinceEvent`), and is pinned to that
 * listing's event — what ODCS does with its cached tag composes (§10.3). A
 * 10 000-RPM listing is ~30 MB of XML; the check is one small call.
 */

import { ComposeError } from "../errors.ts";
import type { KojiClient } from "./client.ts";
import {
  getLastEvent,
  getTag,
  inheritedTagIds,
  type KojiBuild,
  type KojiRpm,
  type KojiTag,
  listTaggedRpms,
  tagChangedSinceEvent,
} from "./hub.ts";

/** Listings kept per process (each a few MB for a large tag); the least recently used go first. */
export const MAX_CACHED_LISTINGS = 16;

/**
 * The event to compose at: `requested` when given (it must exist: a future
 * event would give a different set later), else the hub's last event.
 */
export async function pinKojiEvent(hub: KojiClient, requested: number | null): Promise<number> {
  const last = await getLastEvent(hub);
  if (requested === null) return last;
  if (requested > last)
    throw new ComposeError(
      `Koji event ${requested} does not exist yet: the hub's last event is ${last}`,
    );
  return requested;
}

/** The tag at `event`, or a reason that says whether it does not exist at all or not yet. */
export async function tagAtEvent(hub: KojiClient, name: string, event: number): Promise<KojiTag> {
  const tag = await getTag(hub, name, event);
  if (tag) return tag;
  const now = await getTag(hub, name, await getLastEvent(hub));
  throw new ComposeError(
    now
      ? `Koji tag ${name} did not exist yet at event ${event}`
      : `Koji tag ${name} does not exist`,
  );
}

export interface TagListing {
  event: number;
  /** The tag and every tag it inherits from at `event` (all of them, with inheritance). */
  tagIds: number[];
  rpms: KojiRpm[];
  builds: KojiBuild[];
}

export interface TagQuery {
  name: string;
  /** The request's `koji_event`, or `null` for "now". */
  event: number | null;
  inherit: boolean;
  arches: readonly string[];
}

const listings = new Map<string, TagListing>();

const queryKey = (hub: KojiClient, q: TagQuery) =>
  JSON.stringify([hub.hubUrl, q.name, q.inherit, [...q.arches].sort()]);

function remember(key: string, l: TagListing): void {
  const k = `${key}@${l.event}`;
  listings.delete(k);
  listings.set(k, l);
  if (listings.size > MAX_CACHED_LISTINGS) {
    const oldest = listings.keys().next().value;
    if (oldest !== undefined) listings.delete(oldest);
  }
}

function newest(key: string): TagListing | undefined {
  let best: TagListing | undefined;
  for (const [k, l] of listings)
    if (k.startsWith(`${key}@`) && (!best || l.event > best.event)) best = l;
  return best;
}

/** The tag's RPMs for `q`, and how they were found (for the log). */
export async function resolveTagListing(
  hub: KojiClient,
  q: TagQuery,
): Promise<{ listing: TagListing; cached: boolean }> {
  const key = queryKey(hub, q);
  let event: number;
  if (q.event !== null) {
    const hit = listings.get(`${key}@${q.event}`);
    if (hit) return { listing: hit, cached: true };
    event = await pinKojiEvent(hub, q.event);
  } else {
    const last = newest(key);
    if (last && !(await tagChangedSinceEvent(hub, last.event, last.tagIds))) {
      remember(key, last);
      return { listing: last, cached: true };
    }
    event = await getLastEvent(hub);
  }
  const tag = await tagAtEvent(hub, q.name, event);
  const [parents, listed] = await Promise.all([
    q.inherit ? inheritedTagIds(hub, tag.id, event) : Promise.resolve([]),
    listTaggedRpms(hub, q.name, { event, inherit: q.inherit, arches: [...q.arches] }),
  ]);
  const listing: TagListing = { event, tagIds: [tag.id, ...parents], ...listed };
  remember(key, listing);
  return { listing, cached: false };
}

/**
 * Whether a tag compose made at `event` would come out differently now: the
 * tag, or any tag it inherits from (at `event`), changed since. A tag that
 * no longer exists counts as changed. The reuse check of ODCS (§12).
 */
export async function tagChangedSince(
  hub: KojiClient,
  name: string,
  event: number,
  inherit: boolean,
): Promise<boolean> {
  const tag = await getTag(hub, name, event);
  if (!tag) return true;
  const ids = [tag.id, ...(inherit ? await inheritedTagIds(hub, tag.id, event) : [])];
  return tagChangedSinceEvent(hub, event, ids);
}
