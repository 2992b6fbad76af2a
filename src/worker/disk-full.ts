import { statfsSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { Config } from "../config.ts";
import { isDiskFull } from "../sources/errors.ts";

export { isDiskFull };

/** The directory settings a compose writes under, in the order a reason names them. */
const DIR_SETTINGS = ["ODCS_TARGET_DIR", "ODCS_CACHE_DIR", "ODCS_UPLOAD_DIR"] as const;
type DirSetting = (typeof DIR_SETTINGS)[number];

/** Below this many free bytes a disk counts as full (a failed write may have freed a little). */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * Paths an error names where it writes: errno errors' `dest` (a copy's or
 * link's target) or else `path`, and absolute paths in messages — of a
 * "from -> to" message, those after the arrow.
 */
function pathsOf(err: unknown): string[] {
  const paths: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { path, dest } = e as { path?: unknown; dest?: unknown };
    const named = typeof dest === "string" ? dest : path;
    if (typeof named === "string") paths.push(named);
    const text = e.message.includes("->")
      ? e.message.slice(e.message.lastIndexOf("->"))
      : e.message;
    for (const m of text.matchAll(/(?:^|[\s'"(=>])(\/[^\s'",)]+)/g))
      if (m[1] !== undefined) paths.push(m[1]);
  }
  return paths;
}

const device = (dir: string): number | undefined => {
  try {
    return statSync(dir).dev;
  } catch {
    return undefined;
  }
};

const freeBytes = (dir: string): number | undefined => {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
};

/**
 * Whether the filesystem of `dir` has (nearly) no space left: for tools that
 * fail on a full disk without saying so (createrepo_c: "gzclose(): file
 * operation error").
 */
export function isNearlyFull(dir: string): boolean {
  const free = freeBytes(dir);
  return free !== undefined && free < NEARLY_FULL_BYTES;
}

/** An errno-style error saying `dir`'s disk is full, to be a tool failure's cause. */
export function noSpaceError(dir: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${dir}`), {
    code: "ENOSPC",
    path: dir,
  });
}

/**
 * Which of the worker's directory settings a write refused for want of
 * space (`err`) was on: the one holding a path the error names, else those
 * whose disk is (nearly) full now, else ODCS_TARGET_DIR, where the compose
 * is written. Settings on the same filesystem as a named one are named with
 * it: freeing any of them helps.
 */
export function fullDirSettings(err: unknown, config: Pick<Config, DirSetting>): DirSetting[] {
  const dirs = DIR_SETTINGS.map((k) => ({ k, dir: resolve(config[k]) }));
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir + sep);
  let named: DirSetting[] = [];
  for (const p of pathsOf(err).map((x) => resolve(x))) {
    const best = dirs.filter((d) => under(p, d.dir)).sort((a, b) => b.dir.length - a.dir.length)[0];
    if (best && !named.includes(best.k)) named.push(best.k);
  }
  if (named.length === 0) named = dirs.filter((d) => isNearlyFull(d.dir)).map((d) => d.k);
  if (named.length === 0) named = ["ODCS_TARGET_DIR"];
  const devices = new Set(
    named.map((k) => device(resolve(config[k]))).filter((x) => x !== undefined),
  );
  return DIR_SETTINGS.filter(
    (k) => named.includes(k) || devices.has(device(resolve(config[k])) ?? Number.NaN),
  );
}

const listed = (names: readonly string[]) =>
  names.length <= 1
    ? (names[0] ?? "ODCS_TARGET_DIR")
    : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;

/**
 * A compose's failure for want of space says so first, and where: "ENOSPC"
 * deep in a copy or write message is easy to miss. Worth a retry: composes
 * expire and space comes back.
 */
export function diskFullMessage(
  message: string,
  settings: readonly string[] = ["ODCS_TARGET_DIR"],
): string {
  const where = `the disk of ${listed(settings)} is full`;
  const m = /^(no space left on device)(.*)$/is.exec(message);
  if (!m) return `no space left on device (${where}): ${message}`;
  const rest = (m[2] ?? "").trimStart();
  return `${m[1]} (${where})${rest === "" ? "" : ` ${rest}`}`;
}
