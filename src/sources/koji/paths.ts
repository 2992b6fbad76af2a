/**
 * Where Koji keeps an RPM (reference/koji.md §7, koji.pathinfo), as a path
 * relative to the top dir / topurl. Names come from the hub, so each path
 * component is checked: a hostile hub must not lead a read or a link out
 * of the top dir.
 */

import { ComposeError } from "../errors.ts";

export interface KojiBuildPath {
  name: string;
  version: string;
  release: string;
  volumeName: string | null;
}

export interface KojiRpmPath {
  name: string;
  version: string;
  release: string;
  arch: string;
}

function part(s: string, what: string): string {
  if (s === "" || s === "." || s === ".." || s.includes("/") || s.includes("\0"))
    throw new ComposeError(
      `the Koji hub gave a ${what} that cannot be part of a path: ${JSON.stringify(s)}`,
    );
  return s;
}

/** `vol/<name>/` for a volume other than DEFAULT, else `""`. */
export function volumePrefix(volumeName: string | null): string {
  return volumeName === null || volumeName === "DEFAULT"
    ? ""
    : `vol/${part(volumeName, "volume name")}/`;
}

/** `<name>-<version>-<release>.<arch>.rpm` (epoch never appears in paths). */
export function rpmFileName(r: KojiRpmPath): string {
  return `${part(r.name, "RPM name")}-${part(r.version, "version")}-${part(r.release, "release")}.${part(r.arch, "arch")}.rpm`;
}

/**
 * The file of `rpm` of `build`: with sigkey `""` the RPM as imported
 * (`packages/N/V/R/<arch>/<file>`), else the copy signed with that key
 * (`packages/N/V/R/data/signed/<sigkey>/<arch>/<file>`).
 */
export function rpmRelPath(build: KojiBuildPath, rpm: KojiRpmPath, sigkey: string): string {
  const dir = `${volumePrefix(build.volumeName)}packages/${part(build.name, "package name")}/${part(build.version, "version")}/${part(build.release, "release")}`;
  const file = rpmFileName(rpm);
  return sigkey === ""
    ? `${dir}/${rpm.arch}/${file}`
    : `${dir}/data/signed/${part(sigkey, "sigkey")}/${rpm.arch}/${file}`;
}
