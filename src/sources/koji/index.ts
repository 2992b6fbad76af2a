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
import { ComposeError } from "../../worker/errors.ts";
import type { OpenedRepo } from "../types.ts";
import { listBuilds } from "./builds.ts";
import { KojiClient } from "./client.ts";
import { emptyTransferStats, type KojiTop, type TransferStats } from "./files.ts";
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

export interface KojiOpenContext {
  config: KojiSettings;
  signal: AbortSignal;
  log: { line(text: string): void };
  /** Regeneration: the package set to reproduce, with the sigkey each had. */
  pinned: readonly {
    name: string;
    epoch: string;
    version: string;
    release: string;
    arch: string;
    sigkey?: string | null;
  }[];
}

export interface KojiOpened {
  repo: OpenedRepo;
  kojiEvent: number | null;
  stats: TransferStats;
  hub: KojiClient;
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

function kojiTop(config: KojiSettings): KojiTop {
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

/**
 * Open a `tag` or `build` compose's package set: pin the event (tag),
 * list the RPMs, read the headers of the chosen copies (cached).
 */
export async function openKoji(
  compose: ComposeRow,
  sourceTypeName: "tag" | "build",
  ctx: KojiOpenContext,
): Promise<KojiOpened> {
  // Up to HEADER_READ_CONCURRENCY reads and DOWNLOAD_CONCURRENCY downloads listen on the job's signal at once.
  setMaxListeners(4 * (HEADER_READ_CONCURRENCY + DOWNLOAD_CONCURRENCY), ctx.signal);
  const hub = kojiClient(ctx.config, ctx.signal);
  const top = kojiTop(ctx.config);
  const arches = kojiArches(compose);
  const nvrs = list(compose.builds);
  const stats = emptyTransferStats();
  const started = performance.now();
  let rpms: KojiRpm[];
  let builds: Map<number, KojiBuild>;
  let kojiEvent: number | null = null;
  let origin: string;
  if (sourceTypeName === "tag") {
    const name = compose.source;
    const inherit = (compose.flags & FLAGS.no_inheritance) === 0;
    const { listing, cached } = await resolveTagListing(hub, {
      name,
      event: compose.kojiEvent,
      inherit,
      arches,
    });
    kojiEvent = listing.event;
    builds = new Map(listing.builds.map((b) => [b.id, b]));
    rpms = listing.rpms;
    ctx.log.line(
      `koji: tag ${name} at event ${kojiEvent}${inherit ? "" : " (no inheritance)"}, arches ${arches.join(" ")}: ${rpms.length} RPMs of ${listing.builds.length} builds (latest per package), ${cached ? "listed before and unchanged since" : "listed"} in ${(performance.now() - started).toFixed(0)} ms`,
    );
    if (nvrs.length > 0) {
      const listed = await listBuilds(hub, nvrs, arches);
      rpms = withListedBuilds(rpms, builds, listed);
      ctx.log.line(`koji: builds ${nvrs.join(" ")} added on top of the tag`);
    }
    origin = `koji tag ${name} at event ${kojiEvent}`;
  } else {
    const listed = await listBuilds(hub, nvrs, arches);
    builds = new Map(listed.builds.map((b) => [b.id, b]));
    rpms = listed.rpms;
    origin = `koji builds ${nvrs.join(" ")}`;
    ctx.log.line(
      `koji: ${rpms.length} RPMs of builds ${nvrs.join(" ")}, arches ${arches.join(" ")}`,
    );
  }
  // A regeneration takes each RPM's copy from the same key as before (signatures are not versioned by events).
  const pinnedKeys =
    ctx.pinned.length > 0
      ? new Map(
          ctx.pinned.map((p) => [nevraOfRpm({ ...p, epoch: Number(p.epoch) }), p.sigkey ?? null]),
        )
      : undefined;
  const headersStarted = performance.now();
  const repo = await openKojiPackageSet(
    {
      origin,
      rpms,
      builds,
      keys: kojiKeys(compose.sigkeys),
      ...(pinnedKeys ? { pinnedKeys } : {}),
    },
    {
      hub,
      top,
      cache: sharedHeaderCache<CachedHeader>(join(ctx.config.ODCS_CACHE_DIR, "koji-headers")),
      stats,
      signal: ctx.signal,
      timeoutMs: ctx.config.ODCS_KOJI_TIMEOUT_MS,
    },
  );
  ctx.log.line(
    `koji: ${repo.copies} headers ready in ${(performance.now() - headersStarted).toFixed(0)} ms (${stats.headerRequests} header reads, ${stats.headerBytes} bytes; the rest cached)`,
  );
  return { repo, kojiEvent, stats, hub };
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
