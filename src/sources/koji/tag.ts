/**
 * A Koji tag pinned to an event (reference/koji.md §5, the recipe ODCS and
 * Pungi follow): the event from the request or the hub's last event, the
 * tag checked at that event, then `listTaggedRPMS(tag, event, inherit,
 * latest=True)`.
 */

import { ComposeError } from "../../worker/errors.ts";
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

export interface TaggedSet {
  tag: KojiTag;
  rpms: KojiRpm[];
  builds: KojiBuild[];
}

export async function listTag(
  hub: KojiClient,
  name: string,
  opts: { event: number; inherit: boolean; arches: string[] },
): Promise<TaggedSet> {
  const tag = await tagAtEvent(hub, name, opts.event);
  const { rpms, builds } = await listTaggedRpms(hub, name, opts);
  return { tag, rpms, builds };
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
