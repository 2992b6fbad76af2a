import type { Config } from "../config.ts";
import type { ComposeRow } from "../db/schema.ts";
import type { RpmHeader } from "../rpm/header.ts";
import type { ModuleStreamDoc } from "../rpm/modulemd.ts";
import type { Repodata } from "../rpm/repodata-read.ts";
import type { PackageRecord } from "../rpm/types.ts";
import type { RepodataCache } from "./repodata-cache.ts";

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
   * bytes are copied over the network. A record whose `pkgid` is `""` (Koji
   * gives no sha256) gets its `pkgid` and `sizePackage` set here.
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
}

/** A JSON value: what a source's pinned inputs are made of (they may be stored). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What every source gets from the worker for one compose. */
export interface SourceContext {
  config: Config;
  /** Parsed metadata shared by the composes of this worker process. */
  cache: RepodataCache;
  signal: AbortSignal;
  /** One line of the compose's own log. */
  log: (line: string) => void;
  /**
   * Regeneration of a removed compose: its package set, with the key each
   * RPM's file was signed with (`null`: unsigned or the file as imported).
   */
  regenerating?: readonly RegeneratedRpm[];
}

export interface RegeneratedRpm {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
  sigkey?: string | null;
}

/** The package sets a compose is selected from, as `Source.open` returns them. */
export interface OpenedSources {
  /** Packages may come from these; the selection refers to them by index. */
  repos: OpenedRepo[];
  /** Only satisfy dependencies; never selected. */
  lookaside: OpenedRepo[];
  /** The Koji event the package sets were taken at, stored on the compose (null: none). */
  kojiEvent: number | null;
  /** Module composes: the streams (their RPMs per tree arch) and defaults; `modules.yaml` is written from them. */
  modules?: ComposeModules;
  /** What the compose's `source` becomes once done (ODCS stores a module compose's resolved NSVCs there). */
  source?: string;
}

/** One module stream of a compose. */
export interface ComposeModuleStream extends ModuleStreamDoc {
  name: string;
  stream: string;
  version: string;
  context: string;
  /** The Koji tag its RPMs were taken from (its content tag). */
  kojiTag: string;
  /** Per tree arch: the NEVRAs (`n-e:v-r.a`) of its RPMs the compose has. */
  rpms: Record<string, string[]>;
}

export interface ComposeModules {
  streams: ComposeModuleStream[];
  /** `modulemd-defaults` documents of the compose's modules. */
  defaults: { module: string; text: string }[];
}

/**
 * One source type (DESIGN.md "Sources: one interface, one file each"). The
 * request was checked by the type's pure validator in `domain/sources/`;
 * the worker then calls `resolve` once per attempt and `open` with its
 * result. Select, depsolve, placement and metadata are the same pipeline
 * for every type.
 */
export interface Source<P extends Json = Json> {
  /**
   * Pin the compose's inputs (a Koji event, repomd checksums …) so that
   * `open` of the same value gives the same package sets: JSON, so it can be
   * stored for renewal and reuse. Throws `ComposeError` (retryable or not).
   */
  resolve(compose: ComposeRow, ctx: SourceContext): Promise<P>;
  /** The package sets of `pinned`. Throws `ComposeError`. */
  open(pinned: P, ctx: SourceContext): Promise<OpenedSources>;
}

/** Compose fields a source rewrites when the compose is done (ODCS §10.3), space-joined as stored. */
export interface ComposeRewrite {
  arches?: string;
  sigkeys?: string;
  source?: string;
}

/** Where a `RepoFileSource` writes, as the pipeline lays the compose out. */
export interface RepoFileTarget {
  /** `compose/Temporary` in the staging top dir (ODCS's result_repo_dir). */
  resultRepoDir: string;
  /** Its public URL ("" for a non-default target dir, as ODCS). */
  resultRepoUrl: string;
  /** The compose's `.repo` file (`result_repofile`). */
  repoFilePath: string;
}

/**
 * A source whose result is a `.repo` file only (pulp: it points at
 * repositories published elsewhere; nothing is selected, depsolved or
 * copied). The pipeline calls `resolve` as for a `Source`, then
 * `writeResult` instead of opening, selecting and placing.
 */
export interface RepoFileSource<P extends Json = Json> {
  resolve(compose: ComposeRow, ctx: SourceContext): Promise<P>;
  /** Write the `.repo` file (and whatever it points at in the compose); throws `ComposeError`. */
  writeResult(pinned: P, target: RepoFileTarget, ctx: SourceContext): Promise<ComposeRewrite>;
}

export function isRepoFileSource(s: Source | RepoFileSource): s is RepoFileSource {
  return "writeResult" in s;
}
