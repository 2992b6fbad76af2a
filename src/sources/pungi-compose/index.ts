/**
 * `pungi_compose` composes (ODCS type 7): the packages of one variant of an
 * existing Pungi compose, reproduced from Koji. `resolve` reads the
 * compose's `rpms.json` and pins every RPM (tree arch, NEVRA, the key its
 * file was signed with); `open` takes exactly those RPMs, each copy signed
 * with that same key, from their Koji builds. The pipeline places them per
 * tree arch as listed instead of solving (`OpenedSources.exact`): the
 * original compose already decided the set.
 */

import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { ComposeRow } from "../../db/schema.ts";
import { parseNevra } from "../../rpm/nevra.ts";
import { ComposeError } from "../errors.ts";
import { emptyTransferStats } from "../koji/files.ts";
import { sharedHeaderCache } from "../koji/header-cache.ts";
import {
  BUILD_STATES,
  getBuilds,
  type KojiBuild,
  type KojiRpm,
  listBuildRpms,
} from "../koji/hub.ts";
import { kojiClient, kojiTop } from "../koji/index.ts";
import {
  type CachedHeader,
  DOWNLOAD_CONCURRENCY,
  HEADER_READ_CONCURRENCY,
  nevraOfRpm,
  openKojiPackageSet,
} from "../koji/package-set.ts";
import type { Json, OpenedSources, Source, SourceContext } from "../types.ts";
import { type PungiRpm, readPungiVariant } from "./metadata.ts";

/** What a `pungi_compose` compose is pinned to: the variant's RPM list as read once. */
export interface PungiPinned {
  [key: string]: Json;
  type: "pungi_compose";
  url: string;
  composeId: string;
  variant: string;
  arches: string[];
  builds: string[];
  /** `[treeArch, nevra, sigkey]` per RPM. */
  rpms: [string, string, string | null][];
}

const MAX_LISTED = 50;
const shorten = (items: readonly string[]) =>
  items.length > MAX_LISTED
    ? `${items.slice(0, MAX_LISTED).join(", ")} and ${items.length - MAX_LISTED} more`
    : items.join(", ");

function isPungiPinned(v: unknown, url: string): v is PungiPinned {
  if (v === null || typeof v !== "object") return false;
  const p = v as Partial<PungiPinned>;
  return p.type === "pungi_compose" && p.url === url && Array.isArray(p.rpms);
}

/**
 * The pins stored on the row (an earlier attempt, or the compose a renewal
 * regenerates): the metadata was read then and the package set must not
 * change, even if the original compose is gone by now.
 */
function storedPins(compose: ComposeRow): PungiPinned | undefined {
  if (!compose.sourcePins) return undefined;
  try {
    const v: unknown = JSON.parse(compose.sourcePins);
    return isPungiPinned(v, compose.source) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function resolvePungi(compose: ComposeRow, ctx: SourceContext): Promise<PungiPinned> {
  const stored = storedPins(compose);
  if (stored) {
    ctx.log(
      `pungi_compose: ${stored.rpms.length} RPMs of ${stored.composeId} variant ${stored.variant}, as pinned before`,
    );
    return stored;
  }
  const started = performance.now();
  const v = await readPungiVariant(compose.source, ctx.config, ctx.signal);
  ctx.log(
    `pungi_compose: ${v.composeId} variant ${v.variant}: ${v.rpms.length} RPMs of ${v.builds.length} builds, arches ${v.arches.join(" ")}, read in ${(performance.now() - started).toFixed(0)} ms`,
  );
  return {
    type: "pungi_compose",
    url: compose.source,
    composeId: v.composeId,
    variant: v.variant,
    arches: v.arches,
    builds: v.builds,
    rpms: v.rpms.map((r) => [r.treeArch, r.nevra, r.sigkey]),
  };
}

/**
 * The Koji RPMs of `wanted` NEVRAs from `nvrs`' builds; fails listing
 * every NEVRA Koji lacks (unknown build, build not COMPLETE, RPM not in it).
 */
async function kojiRpmsOf(
  hub: ReturnType<typeof kojiClient>,
  nvrs: readonly string[],
  wanted: ReadonlySet<string>,
  url: string,
): Promise<{ rpms: KojiRpm[]; builds: Map<number, KojiBuild> }> {
  const found = await getBuilds(hub, nvrs);
  const builds = new Map<number, KojiBuild>();
  const notes: string[] = [];
  found.forEach((b, i) => {
    if (b === null) notes.push(`build ${nvrs[i]} is unknown to the Koji hub`);
    else if (b.state !== 1)
      notes.push(`build ${b.nvr} is ${BUILD_STATES[b.state] ?? `in state ${b.state}`}`);
    else builds.set(b.id, b);
  });
  const arches = [...new Set([...wanted].map((n) => parseNevra(n).arch))];
  const perBuild = await listBuildRpms(hub, [...builds.keys()], arches);
  const rpms = perBuild.flat().filter((r) => wanted.has(nevraOfRpm(r)));
  const have = new Set(rpms.map((r) => nevraOfRpm(r)));
  const lacking = [...wanted].filter((n) => !have.has(n)).sort();
  if (lacking.length > 0)
    throw new ComposeError(
      `Koji lacks ${lacking.length} of the ${wanted.size} RPMs ${url} lists: ${shorten(lacking)}${notes.length > 0 ? ` (${shorten(notes)})` : ""}`,
    );
  return { rpms, builds };
}

async function openPungi(pinned: PungiPinned, ctx: SourceContext): Promise<OpenedSources> {
  setMaxListeners(4 * (HEADER_READ_CONCURRENCY + DOWNLOAD_CONCURRENCY), ctx.signal);
  const hub = kojiClient(ctx.config, ctx.signal);
  const top = kojiTop(ctx.config);
  const stats = emptyTransferStats();
  const listed: PungiRpm[] = pinned.rpms.map(([treeArch, nevra, sigkey]) => ({
    treeArch,
    nevra,
    sigkey,
  }));
  const pinnedKeys = new Map<string, string | null>();
  for (const r of listed) if (!pinnedKeys.has(r.nevra)) pinnedKeys.set(r.nevra, r.sigkey);
  const { rpms, builds } = await kojiRpmsOf(
    hub,
    pinned.builds,
    new Set(pinnedKeys.keys()),
    pinned.url,
  );
  const keys = [...new Set(listed.flatMap((r) => (r.sigkey === null ? [] : [r.sigkey])))];
  if (listed.some((r) => r.sigkey === null)) keys.push("");
  const started = performance.now();
  const repo = await openKojiPackageSet(
    {
      origin: `pungi compose ${pinned.composeId} variant ${pinned.variant} (${pinned.url})`,
      rpms,
      builds,
      keys,
      pinnedKeys,
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
  ctx.log(
    `pungi_compose: ${repo.copies} Koji headers ready in ${(performance.now() - started).toFixed(0)} ms; ${hub.stats.calls} hub calls in ${hub.stats.requests} requests`,
  );
  const exactPackages = listed.map((r) => {
    const n = parseNevra(r.nevra);
    return { ...n, epoch: String(n.epoch), sigkey: r.sigkey, treeArch: r.treeArch };
  });
  const names = [
    ...new Set(
      // Every RPM's name, the source entries' included, as ODCS copies them (§6 step 4).
      exactPackages.map((p) => p.name),
    ),
  ].sort();
  const sigkeys = [...keys];
  return {
    repos: [repo],
    lookaside: [],
    kojiEvent: null,
    exact: { arches: pinned.arches, packages: exactPackages },
    // ODCS copies these from the compose's metadata onto the compose (§10.3).
    rewrite: {
      arches: pinned.arches.join(" "),
      builds: pinned.builds.join(" "),
      packages: names.join(" "),
      sigkeys: sigkeys.join(" "),
    },
  };
}

export const pungiComposeSource: Source<PungiPinned> = {
  resolve: resolvePungi,
  open: openPungi,
};
