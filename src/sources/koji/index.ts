/**
 * `tag` and `build` composes: resolve the compose's Koji inputs (the event a
 * tag is pinned to; the listed builds), and open them as one package set
 * for the select/depsolve pipeline. Lookaside repos are yum repositories,
 * opened by the caller as for repo composes.
 */

import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { ComposeRow } from "../../db/schema.ts";
import { FLAGS } from "../../domain/states.ts";
import { secondaryArches } from "../../rpm/multilib.ts";
import { sigkeyPolicy } from "../../rpm/sigkeys.ts";
import { nativeArches } from "../../rpm/tree-arches.ts";
import { ComposeError } from "../errors.ts";
import { openLookaside } from "../repo.ts";
import type { Json, OpenedSources, Source, SourceContext } from "../types.ts";
import { listBuilds } from "./builds.ts";
import { KojiClient } from "./client.ts";
import { emptyTransferStats, type KojiTop } from "./files.ts";
import { sharedHeaderCache } from "./header-cache.ts";
import type { KojiBuild, KojiRpm } from "./hub.ts";
import {
  type CachedHeader,
  DOWNLOAD_CONCURRENCY,
  HEADER_READ_CONCURRENCY,
  nevraOfRpm,
  openKojiPackageSet,
} from "./package-set.ts";
import { resolveTagListing, tagChangedSince } from "./tag.ts";

export { tagChangedSince } from "./tag.ts";

/** The settings a Koji source reads (a subset of Config). */
export interface KojiSettings {
  ODCS_KOJI_HUB_URL?: string | undefined;
  ODCS_KOJI_TOPURL?: string | undefined;
  ODCS_KOJI_TOPDIR?: string | undefined;
  ODCS_KOJI_TIMEOUT_MS: number;
  ODCS_KOJI_RETRIES: number;
  ODCS_CACHE_DIR: string;
}

/**
 * What a `tag` or `build` compose is pinned to: the event (tag), and the
 * request fields the package set depends on, so `open` needs nothing else.
 */
export interface KojiPinned {
  [key: string]: Json;
  type: "tag" | "build";
  /** The tag (`tag`), `""` for `build`. */
  tag: string;
  /** The event the tag is listed at; `null` for `build`. */
  event: number | null;
  inherit: boolean;
  /** RPM arches to list (`kojiArches`). */
  arches: string[];
  /** NVRs: the `build` compose's builds, or those added on top of the tag. */
  builds: string[];
  /** Koji keys to try (`kojiKeys`). */
  keys: string[];
  lookaside: string[];
}

const list = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

export function kojiClient(config: KojiSettings, signal?: AbortSignal): KojiClient {
  if (!config.ODCS_KOJI_HUB_URL)
    throw new ComposeError("this server has no Koji hub configured (ODCS_KOJI_HUB_URL)");
  return new KojiClient({
    hubUrl: config.ODCS_KOJI_HUB_URL,
    timeoutMs: config.ODCS_KOJI_TIMEOUT_MS,
    retries: config.ODCS_KOJI_RETRIES,
    ...(signal ? { signal } : {}),
  });
}

export function kojiTop(config: KojiSettings): KojiTop {
  if (config.ODCS_KOJI_TOPDIR) return { kind: "dir", dir: config.ODCS_KOJI_TOPDIR };
  if (config.ODCS_KOJI_TOPURL) return { kind: "url", url: config.ODCS_KOJI_TOPURL };
  throw new ComposeError(
    "this server has no Koji top dir or topurl configured (ODCS_KOJI_TOPDIR, ODCS_KOJI_TOPURL)",
  );
}

/** The RPM arches a compose of these tree arches can take: native families, multilib where asked, noarch. */
export function kojiArches(compose: Pick<ComposeRow, "arches" | "multilibArches">): string[] {
  const multilib = new Set(list(compose.multilibArches));
  const out = new Set<string>();
  for (const a of list(compose.arches)) {
    for (const x of nativeArches(a)) out.add(x);
    if (multilib.has(a)) for (const x of secondaryArches(a)) out.add(x);
  }
  out.add("noarch");
  return [...out];
}

/** Koji keys to try: the compose's sigkeys (lower-case 8-hex), `""` last when allowed; none given = the files as imported. */
export function kojiKeys(sigkeys: string): string[] {
  if (sigkeys === "") return [""];
  const policy = sigkeyPolicy(sigkeys.split(" "));
  return [...policy.keys, ...(policy.allowUnsigned ? [""] : [])];
}

/** `rpms` with the RPMs of every package that a listed build replaces taken out, then the listed builds' RPMs. */
function withListedBuilds(
  rpms: KojiRpm[],
  builds: Map<number, KojiBuild>,
  listed: { builds: KojiBuild[]; rpms: KojiRpm[] },
): KojiRpm[] {
  const replaced = new Set(listed.builds.map((b) => b.name));
  const kept = rpms.filter((r) => {
    const b = builds.get(r.buildId);
    return !(b && replaced.has(b.name));
  });
  for (const b of listed.builds) builds.set(b.id, b);
  const ids = new Set(kept.map((r) => r.id));
  return [...kept, ...listed.rpms.filter((r) => !ids.has(r.id))];
}

async function resolveKoji(
  type: "tag" | "build",
  compose: ComposeRow,
  ctx: SourceContext,
): Promise<KojiPinned> {
  const arches = kojiArches(compose);
  const inherit = (compose.flags & FLAGS.no_inheritance) === 0;
  let event: number | null = null;
  if (type === "tag") {
    const hub = kojiClient(ctx.config, ctx.signal);
    const started = performance.now();
    const { listing, cached } = await resolveTagListing(hub, {
      name: compose.source,
      event: compose.kojiEvent,
      inherit,
      arches,
    });
    event = listing.event;
    ctx.log(
      `koji: tag ${compose.source} at event ${event}${inherit ? "" : " (no inheritance)"}, arches ${arches.join(" ")}: ${listing.rpms.length} RPMs of ${listing.builds.length} builds (latest per package), ${cached ? "listed before and unchanged since" : "listed"} in ${(performance.now() - started).toFixed(0)} ms`,
    );
  }
  return {
    type,
    tag: type === "tag" ? compose.source : "",
    event,
    inherit,
    arches,
    // A set: the order of the NVRs changes nothing (and pins are compared for reuse).
    builds: [...new Set(list(compose.builds))].sort(),
    keys: kojiKeys(compose.sigkeys),
    lookaside: list(compose.lookasideRepos),
  };
}

/** List the RPMs (a cache hit for a tag just resolved), read their headers (cached), open the lookaside repos. */
async function openKoji(pinned: KojiPinned, ctx: SourceContext): Promise<OpenedSources> {
  // Up to HEADER_READ_CONCURRENCY reads and DOWNLOAD_CONCURRENCY downloads listen on the job's signal at once.
  setMaxListeners(4 * (HEADER_READ_CONCURRENCY + DOWNLOAD_CONCURRENCY), ctx.signal);
  const hub = kojiClient(ctx.config, ctx.signal);
  const top = kojiTop(ctx.config);
  const stats = emptyTransferStats();
  let rpms: KojiRpm[];
  let builds: Map<number, KojiBuild>;
  let origin: string;
  let listKey: object | undefined;
  if (pinned.type === "tag") {
    const { listing } = await resolveTagListing(hub, {
      name: pinned.tag,
      event: pinned.event,
      inherit: pinned.inherit,
      arches: pinned.arches,
    });
    builds = new Map(listing.builds.map((b) => [b.id, b]));
    rpms = listing.rpms;
    if (pinned.builds.length === 0) listKey = listing;
    if (pinned.builds.length > 0) {
      const listed = await listBuilds(hub, pinned.builds, pinned.arches);
      rpms = withListedBuilds(rpms, builds, listed);
      ctx.log(`koji: builds ${pinned.builds.join(" ")} added on top of the tag`);
    }
    origin = `koji tag ${pinned.tag} at event ${pinned.event}`;
  } else {
    const listed = await listBuilds(hub, pinned.builds, pinned.arches);
    builds = new Map(listed.builds.map((b) => [b.id, b]));
    rpms = listed.rpms;
    origin = `koji builds ${pinned.builds.join(" ")}`;
    ctx.log(
      `koji: ${rpms.length} RPMs of builds ${pinned.builds.join(" ")}, arches ${pinned.arches.join(" ")}`,
    );
  }
  // Signatures are not versioned by events: a regeneration takes each RPM from the same key as before.
  const pinnedKeys = new Map(
    (ctx.regenerating ?? []).map((p) => [
      nevraOfRpm({ ...p, epoch: Number(p.epoch) }),
      p.sigkey ?? null,
    ]),
  );
  const started = performance.now();
  const [repo, lookaside] = await Promise.all([
    openKojiPackageSet(
      {
        origin,
        rpms,
        builds,
        keys: pinned.keys,
        ...(pinnedKeys.size > 0 ? { pinnedKeys } : {}),
      },
      {
        hub,
        top,
        cache: sharedHeaderCache<CachedHeader>(join(ctx.config.ODCS_CACHE_DIR, "koji-headers")),
        stats,
        signal: ctx.signal,
        timeoutMs: ctx.config.ODCS_KOJI_TIMEOUT_MS,
      },
      listKey,
    ),
    openLookaside(pinned.lookaside, ctx),
  ]);
  ctx.log(
    `koji: ${repo.copies} headers ready in ${(performance.now() - started).toFixed(0)} ms (${stats.headerRequests} header reads, ${stats.headerBytes} bytes; the rest cached); ${hub.stats.calls} hub calls in ${hub.stats.requests} requests`,
  );
  return { repos: [repo], lookaside, kojiEvent: pinned.event };
}

/** `tag` composes: a Koji tag at an event, with builds on top. */
export const kojiTagSource: Source<KojiPinned> = {
  resolve: (compose, ctx) => resolveKoji("tag", compose, ctx),
  open: openKoji,
};

/** `build` composes: exactly the listed Koji builds. */
export const kojiBuildSource: Source<KojiPinned> = {
  resolve: (compose, ctx) => resolveKoji("build", compose, ctx),
  open: openKoji,
};

/** The event a tag compose was pinned to: its `koji_event`, or (still generating) its stored pins'. */
function pinnedEventOf(c: Pick<ComposeRow, "kojiEvent" | "sourcePins">): number | null {
  if (c.kojiEvent !== null) return c.kojiEvent;
  try {
    const pins = JSON.parse(c.sourcePins ?? "null") as { event?: unknown } | null;
    return typeof pins?.event === "number" ? pins.event : null;
  } catch {
    return null;
  }
}

/**
 * For reuse (ODCS §12): whether `candidate`, a tag compose with the same
 * request, still is what the tag gives now — neither the tag nor a tag it
 * inherits from changed since the candidate's event. `resolved` is the new
 * compose's pinned inputs: pinned to the same event it is the same listing
 * (no hub call); pinned to an earlier one (a renewal of an old compose) it
 * must not take a newer compose.
 */
export async function tagComposeStillValid(
  candidate: Pick<ComposeRow, "source" | "flags" | "kojiEvent" | "sourcePins">,
  resolved: Json,
  config: KojiSettings,
  signal?: AbortSignal,
): Promise<boolean> {
  const event = pinnedEventOf(candidate);
  const now =
    resolved !== null && typeof resolved === "object" && !Array.isArray(resolved)
      ? resolved.event
      : null;
  if (event === null || typeof now !== "number" || now < event) return false;
  if (now === event) return true;
  return isTagComposeCurrent({ ...candidate, kojiEvent: event }, config, signal);
}

/** For reuse: whether a done tag compose made at `event` is still what the tag gives now. */
export async function isTagComposeCurrent(
  compose: Pick<ComposeRow, "source" | "flags" | "kojiEvent">,
  config: KojiSettings,
  signal?: AbortSignal,
): Promise<boolean> {
  if (compose.kojiEvent === null) return false;
  const hub = kojiClient(config, signal);
  const inherit = (compose.flags & FLAGS.no_inheritance) === 0;
  return !(await tagChangedSince(hub, compose.source, compose.kojiEvent, inherit));
}
