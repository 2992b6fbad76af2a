/**
 * Listed builds (`source.builds`): exactly these NVRs, each known to the hub
 * and COMPLETE, with their RPMs.
 */

import { ComposeError } from "../errors.ts";
import type { KojiClient } from "./client.ts";
import { BUILD_STATES, getBuilds, type KojiBuild, type KojiRpm, listBuildRpms } from "./hub.ts";

export interface ListedBuilds {
  builds: KojiBuild[];
  rpms: KojiRpm[];
}

/**
 * The builds named by `nvrs` and their RPMs of `arches`. Fails naming every
 * NVR the hub does not know and every build that is not COMPLETE.
 */
export async function listBuilds(
  hub: KojiClient,
  nvrs: readonly string[],
  arches: readonly string[],
): Promise<ListedBuilds> {
  const found = await getBuilds(hub, nvrs);
  const unknown: string[] = [];
  const notComplete: string[] = [];
  const builds: KojiBuild[] = [];
  found.forEach((b, i) => {
    const nvr = nvrs[i] ?? "";
    if (b === null) unknown.push(nvr);
    else if (b.state !== 1)
      notComplete.push(`${nvr} (${BUILD_STATES[b.state] ?? `state ${b.state}`})`);
    else builds.push(b);
  });
  const problems = [
    unknown.length > 0 ? `unknown to the Koji hub: ${unknown.join(", ")}` : "",
    notComplete.length > 0 ? `not COMPLETE: ${notComplete.join(", ")}` : "",
  ].filter((p) => p !== "");
  if (problems.length > 0)
    throw new ComposeError(`Cannot compose the requested builds; ${problems.join("; ")}`);
  const perBuild = await listBuildRpms(
    hub,
    builds.map((b) => b.id),
    arches,
  );
  return { builds, rpms: perBuild.flat() };
}
