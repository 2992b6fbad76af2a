/**
 * NEVRA strings as productmd writes and reads them (`parse_nvra`,
 * `name-epoch:version-release.arch`).
 */

export interface Nevra {
  name: string;
  /** 0 when the string has no epoch (productmd returns an int). */
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

/** Malformed NEVRA / NVR text. */
export class NevraParseError extends Error {
  override name = "NevraParseError";
}

/**
 * productmd `parse_nvra`: a trailing `.rpm` and any leading directories are
 * dropped; arch is after the last `.`, release between the last `-` and that
 * dot, version between the previous `-` (or an `E:` prefix) and the last `-`,
 * name is everything before. Throws {@link NevraParseError} when there are
 * fewer than two dashes or no dot.
 */
export function parseNevra(text: string): Nevra {
  const m =
    /^(?:.*\/)?(?<name>.*)-(?:(?<epoch>\d+):)?(?<version>.*)-(?<release>.*)\.(?<arch>.*)$/.exec(
      text.endsWith(".rpm") ? text.slice(0, -4) : text,
    );
  const g = m?.groups;
  if (!g) throw new NevraParseError(`not a NEVRA: ${JSON.stringify(text)}`);
  return {
    name: g.name ?? "",
    epoch: g.epoch === undefined ? 0 : Number(g.epoch),
    version: g.version ?? "",
    release: g.release ?? "",
    arch: g.arch ?? "",
  };
}

/** Like {@link parseNevra} but `undefined` instead of throwing. */
export function findNevra(text: string): Nevra | undefined {
  try {
    return parseNevra(text);
  } catch (e) {
    if (e instanceof NevraParseError) return undefined;
    throw e;
  }
}

interface NevraLike {
  name: string;
  epoch?: number | string | null;
  version: string;
  release: string;
  arch: string;
}

/** Canonical productmd form `name-epoch:version-release.arch`; the epoch is always written (`0:`). */
export function formatNevra(n: NevraLike): string {
  const epoch = n.epoch === undefined || n.epoch === null || n.epoch === "" ? 0 : n.epoch;
  return `${n.name}-${epoch}:${n.version}-${n.release}.${n.arch}`;
}

/** `name-version-release` (Koji build NVR: no epoch, no arch). */
export function formatNvr(n: Pick<NevraLike, "name" | "version" | "release">): string {
  return `${n.name}-${n.version}-${n.release}`;
}

/** `name-version-release.arch.rpm`, the file name rpmbuild and Koji use. */
export function rpmFileNameOf(n: NevraLike): string {
  return `${n.name}-${n.version}-${n.release}.${n.arch}.rpm`;
}
