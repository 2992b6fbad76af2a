import type { RpmHeader } from "../rpm/header.ts";
import type { Repodata } from "../rpm/repodata-read.ts";
import type { PackageRecord } from "../rpm/types.ts";

/**
 * One opened package source: its parsed metadata and a way to put one of its
 * RPMs at a path. Every source type (repo today; koji, pulp, pungi_compose
 * next) resolves its input to one or more of these.
 */
export interface OpenedRepo {
  /** Human-readable origin, used in logs, reasons and compose_rpms.source_repo. */
  origin: string;
  repodata: Repodata;
  /**
   * Place the RPM of `pkg` at `dest` (hardlink, reflink, copy or download),
   * making `dest`'s directory if needed, verifying its checksum when the
   * bytes are copied over the network.
   */
  materialise(
    pkg: PackageRecord,
    dest: string,
    signal: AbortSignal,
  ): Promise<"link" | "copy" | "download">;
  /**
   * The signature and main headers of `pkg`'s RPM, reading only their bytes
   * (a positioned read or HTTP Range requests), never the payload.
   */
  readHeader(pkg: PackageRecord, signal: AbortSignal): Promise<RpmHeader>;
  /**
   * Set by sources that choose each selected package's file themselves
   * (Koji: the copy signed with the most preferred key, from the hub's
   * signature records): the record to place for each of `selected` (the
   * same package; another file), and, sorted, the packages that have no
   * copy the compose's sigkeys accept. The pipeline then skips its own
   * header-based signature check.
   */
  chooseCopies?: (
    selected: readonly PackageRecord[],
  ) => Promise<{ chosen: Map<PackageRecord, PackageRecord>; problems: string[] }>;
  /**
   * True when a record's `pkgid` and `sizePackage` may be known only once
   * `materialise` has read the file (Koji gives no sha256): repodata is then
   * written after the files are placed.
   */
  digestsOnPlacement?: boolean;
}
