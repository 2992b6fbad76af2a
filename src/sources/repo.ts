import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, realpath, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { isAllowedPath } from "../domain/allowed-location.ts";
import { InvalidRequestError } from "../domain/errors.ts";
import {
  parseRepoLocation,
  type RepoLocation,
  type RepoSourcePolicy,
} from "../domain/sources/repo.ts";
import { sha256Hex } from "../rpm/decompress.ts";
import {
  REPOMD_PATH,
  type ReadFile,
  type Repodata,
  readRepodataWithRepomd,
} from "../rpm/repodata-read.ts";
import type { PackageRecord } from "../rpm/types.ts";
import { ComposeError } from "./errors.ts";
import { describeFailure, fetchBytes, fetchOk, fetchStream, readLocalBounded } from "./fetch.ts";
import { limiter } from "./limit.ts";
import { checkRealPath, locatePath, locateRealPath, locateUrl } from "./location.ts";
import { batchedPlacer } from "./place/batched-placer.ts";
import { realFile } from "./place/place-files.ts";
import type { RepodataCache } from "./repodata-cache.ts";
import { withRetries } from "./retry.ts";
import { fetchRpmHeader, firstReadBytes, readLocalRpmHeader } from "./sigkeys.ts";
import type { OpenedRepo, Source, SourceContext } from "./types.ts";

/** Read size for local metadata files (fs streams default to 64 KiB). */
const METADATA_READ_BYTES = 256 * 1024;

export interface RepoSourceContext {
  policy: RepoSourcePolicy;
  cache: RepodataCache;
  signal: AbortSignal;
  downloadTimeoutMs: number;
  /** Largest repomd.xml read (`ODCS_MAX_REPOMD_BYTES`). */
  maxRepomdBytes: number;
  /** Largest metadata file, stored and decompressed (`ODCS_MAX_METADATA_BYTES`). */
  maxMetadataBytes: number;
}

/** How refusals name a package: its NEVRA. */
const packageName = (pkg: PackageRecord) =>
  `package ${pkg.name}-${pkg.epoch && pkg.epoch !== "0" ? `${pkg.epoch}:` : ""}${pkg.version}-${pkg.release}.${pkg.arch}`;

/** A metadata file of the local repository `root`, symlinks resolved and checked. */
const localMetadataFile = (path: string, root: string, rel: string, ctx: RepoSourceContext) =>
  locateRealPath(root, rel, undefined, ctx.policy, `metadata file of ${path}`);

/** A metadata file of the remote repository `url`, checked. */
const remoteMetadataFile = (url: string, rel: string, ctx: RepoSourceContext) =>
  locateUrl(url, rel, undefined, ctx.policy, `metadata file of ${url}`);

/** Downloads of one remote source in flight at once. */
const DOWNLOAD_CONCURRENCY = 16;

async function localRoot(path: string, ctx: RepoSourceContext): Promise<string> {
  let root: string;
  try {
    root = await realpath(path);
  } catch {
    throw new ComposeError(`repository ${path} does not exist or is not readable`);
  }
  // The request check saw the path as written; symlinks must not lead out of the allowed roots.
  if (!isAllowedPath(root, ctx.policy.ODCS_ALLOWED_REPO_ROOTS)) {
    throw new ComposeError(
      `repository ${path} resolves to ${root}, which is outside the allowed roots`,
    );
  }
  return root;
}

async function readLocalRepomd(
  path: string,
  root: string,
  ctx: RepoSourceContext,
): Promise<Uint8Array> {
  try {
    return await readLocalBounded(
      await localMetadataFile(path, root, REPOMD_PATH, ctx),
      ctx.maxRepomdBytes,
    );
  } catch (err) {
    if (err instanceof ComposeError) throw err;
    throw new ComposeError(`${path} is not a yum repository: ${REPOMD_PATH} is missing`);
  }
}

async function openLocal(
  path: string,
  ctx: RepoSourceContext,
  pinnedRepomd?: Uint8Array,
): Promise<OpenedRepo> {
  const root = await localRoot(path, ctx);
  const repomd = pinnedRepomd ?? (await readLocalRepomd(path, root, ctx));
  const open: ReadFile = async (rel) =>
    createReadStream(await localMetadataFile(path, root, rel, ctx), {
      highWaterMark: METADATA_READ_BYTES,
    });
  const repodata = await ctx.cache.get(path, repomd, () =>
    parse(path, open, repomd, ctx.maxMetadataBytes),
  );
  const realDirs = new Map<string, string>();
  const where = (pkg: PackageRecord) =>
    locatePath(root, pkg.location, pkg.locationBase, ctx.policy, `${packageName(pkg)} in ${path}`);
  // The file itself, never a symlink, and only from inside the allowed roots.
  const resolve = (pkg: PackageRecord) =>
    checkRealPath(
      realFile(where(pkg), realDirs),
      pkg.location,
      pkg.locationBase,
      ctx.policy,
      `${packageName(pkg)} in ${path}`,
    );
  const place = batchedPlacer(ctx.policy.ODCS_ALLOWED_REPO_ROOTS);
  return {
    origin: path,
    repodata,
    async readHeader(pkg) {
      return readLocalRpmHeader(resolve(pkg), firstReadBytes(pkg));
    },
    async materialise(pkg, dest) {
      const placed = await place({ src: where(pkg), dest });
      if (placed.ok) return placed.how;
      if (placed.outside)
        checkRealPath(
          placed.real,
          pkg.location,
          pkg.locationBase,
          ctx.policy,
          `${packageName(pkg)} in ${path}`,
        );
      if (placed.code === "ENOSPC" || placed.code === "EDQUOT")
        throw new ComposeError(
          `no space left on device placing ${pkg.location}: ${placed.message}`,
          {
            retryable: true,
          },
        );
      throw new ComposeError(
        `${pkg.location} is listed in ${path} but cannot be read: ${placed.message}`,
      );
    },
  };
}

/**
 * Stream the source's metadata in (filelists and other too: the in-process
 * repodata writer needs file lists and changelogs). A network failure
 * anywhere in a file keeps its retryable flag.
 */
async function parse(
  origin: string,
  open: ReadFile,
  repomd: Uint8Array,
  maxBytes: number,
): Promise<Repodata> {
  try {
    return await readRepodataWithRepomd(open, repomd, { filelists: true, other: true, maxBytes });
  } catch (err) {
    if (err instanceof ComposeError) throw err;
    const cause = (err as Error).cause;
    throw new ComposeError(`cannot read the metadata of ${origin}: ${(err as Error).message}`, {
      retryable: cause instanceof ComposeError && cause.retryable,
      cause: err,
    });
  }
}

function hashingTransform(algo: string) {
  const hash = createHash(algo);
  const t = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  return { t, digest: () => hash.digest("hex") };
}

async function openRemote(
  url: string,
  ctx: RepoSourceContext,
  pinnedRepomd?: Uint8Array,
): Promise<OpenedRepo> {
  const pkgHref = (pkg: PackageRecord) =>
    locateUrl(url, pkg.location, pkg.locationBase, ctx.policy, `${packageName(pkg)} in ${url}`);
  const repomd = pinnedRepomd ?? (await readRemoteRepomd(url, ctx));
  const open: ReadFile = async (rel) =>
    fetchStream(
      remoteMetadataFile(url, rel, ctx),
      ctx.signal,
      ctx.downloadTimeoutMs,
      ctx.maxMetadataBytes,
    );
  const repodata = await ctx.cache.get(url, repomd, () =>
    parse(url, open, repomd, ctx.maxMetadataBytes),
  );
  const download = limiter(DOWNLOAD_CONCURRENCY);
  const destDirs = new Map<string, Promise<unknown>>();
  const destDir = (dest: string) => {
    const d = dirname(dest);
    let made = destDirs.get(d);
    if (!made) {
      made = mkdir(d, { recursive: true });
      destDirs.set(d, made);
    }
    return made;
  };
  return {
    origin: url,
    repodata,
    async readHeader(pkg, signal) {
      return fetchRpmHeader(pkgHref(pkg), {
        signal,
        timeoutMs: ctx.downloadTimeoutMs,
        initialBytes: firstReadBytes(pkg),
      });
    },
    materialise: (pkg, dest, signal) =>
      download(async () => {
        const href = pkgHref(pkg);
        await destDir(dest);
        // A body that breaks off is fetched again; the whole file, as the
        // checksum covers it all.
        await withRetries(signal, () => downloadVerified(href, pkg, dest, signal, ctx));
        return "download" as const;
      }),
  };
}

/**
 * Download `href` to `dest`, checking its digest as it streams. A broken or
 * stalled body is a retryable failure; a complete file with the wrong digest
 * is not (the mirror serves a different or damaged file: asking again gets
 * the same bytes) and names the file and both digests.
 */
async function downloadVerified(
  href: string,
  pkg: PackageRecord,
  dest: string,
  signal: AbortSignal,
  ctx: RepoSourceContext,
): Promise<void> {
  const res = await fetchOk(href, signal, ctx.downloadTimeoutMs);
  const algo = pkg.checksumType === "sha" ? "sha1" : pkg.checksumType;
  const { t, digest } = hashingTransform(algo);
  if (!res.body) throw new ComposeError(`${href} answered with no body`, { retryable: true });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), t, createWriteStream(dest), {
      signal,
    });
  } catch (err) {
    await rm(dest, { force: true });
    if (signal.aborted) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") throw err;
    throw new ComposeError(
      `downloading ${href} failed: ${describeFailure(err, ctx.downloadTimeoutMs)}`,
      { retryable: true, cause: err },
    );
  }
  const got = digest();
  if (got !== pkg.pkgid) {
    await rm(dest, { force: true });
    throw new ComposeError(
      `checksum mismatch: ${href} has ${pkg.checksumType} ${got}, but the metadata says ${pkg.pkgid}`,
    );
  }
}

/**
 * Open one `source` item or lookaside repo of a `repo` compose; with
 * `repomd`, from exactly that repomd.xml (the one its pin was taken from).
 */
export function openRepo(
  loc: RepoLocation,
  ctx: RepoSourceContext,
  repomd?: Uint8Array,
): Promise<OpenedRepo> {
  return loc.kind === "path" ? openLocal(loc.path, ctx, repomd) : openRemote(loc.url, ctx, repomd);
}

function readRemoteRepomd(url: string, ctx: RepoSourceContext): Promise<Uint8Array> {
  return fetchBytes(
    remoteMetadataFile(url, REPOMD_PATH, ctx),
    ctx.signal,
    ctx.downloadTimeoutMs,
    ctx.maxRepomdBytes,
  );
}

/**
 * The bytes of a repository's `repodata/repomd.xml` (small: it only names
 * the metadata files by checksum), with the same checks as `openRepo`.
 */
export async function readRepomd(loc: RepoLocation, ctx: RepoSourceContext): Promise<Uint8Array> {
  if (loc.kind === "url") return readRemoteRepomd(loc.url, ctx);
  return readLocalRepomd(loc.path, await localRoot(loc.path, ctx), ctx);
}

/**
 * The revision of yum repositories: `sha256:<hex>` of each one's
 * repomd.xml by location as written. repomd names every other metadata
 * file by checksum (each verified as it streams), so equal pins mean equal
 * metadata — what makes reuse (§12) of a compose of them exact.
 */
export type RepomdPins = { [item: string]: string };

/** The bytes each pin was taken from, for `open` in the same process (no second read). */
const pinnedBytes = new WeakMap<RepomdPins, Map<string, Uint8Array>>();

const repomdPin = (bytes: Uint8Array) => `sha256:${sha256Hex(bytes)}`;

/** A `repo` compose's inputs: its source and lookaside locations as stored, and their pins. */
export type RepoPinned = { source: string[]; lookaside: string[]; repomd: RepomdPins };

const listOf = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

function locationOf(item: string, ctx: SourceContext): RepoLocation {
  try {
    return parseRepoLocation(item, ctx.config);
  } catch (err) {
    // The policy may have changed since the request was accepted: not worth a retry.
    if (err instanceof InvalidRequestError) throw new ComposeError(err.message);
    throw err;
  }
}

const repoContext = (ctx: SourceContext): RepoSourceContext => ({
  policy: ctx.config,
  cache: ctx.cache,
  signal: ctx.signal,
  downloadTimeoutMs: ctx.config.ODCS_DOWNLOAD_TIMEOUT_MS,
  maxRepomdBytes: ctx.config.ODCS_MAX_REPOMD_BYTES,
  maxMetadataBytes: ctx.config.ODCS_MAX_METADATA_BYTES,
});

/**
 * Pin yum repositories (sources or lookaside repos of any source type):
 * one small read or GET of repomd.xml each.
 */
export async function pinRepos(
  items: string[],
  what: string,
  ctx: SourceContext,
): Promise<RepomdPins> {
  const read = await Promise.all(
    items.map(async (item) => {
      ctx.log(`pinning ${what} ${item} (its repomd.xml)`);
      return [item, await readRepomd(locationOf(item, ctx), repoContext(ctx))] as const;
    }),
  );
  const pins: RepomdPins = Object.fromEntries(read.map(([item, b]) => [item, repomdPin(b)]));
  pinnedBytes.set(pins, new Map(read));
  return pins;
}

/**
 * The repomd.xml `item` was pinned to; read again (another process, or
 * pins read back from storage) it must still be that one. A repository
 * that changed meanwhile is a retryable failure: the next attempt pins anew.
 */
async function pinnedRepomd(
  item: string,
  pins: RepomdPins | undefined,
  ctx: SourceContext,
): Promise<Uint8Array | undefined> {
  const want = pins?.[item];
  if (pins === undefined || want === undefined) return undefined;
  const bytes =
    pinnedBytes.get(pins)?.get(item) ?? (await readRepomd(locationOf(item, ctx), repoContext(ctx)));
  if (repomdPin(bytes) !== want)
    throw new ComposeError(`${item} changed while the compose was being made; trying again`, {
      retryable: true,
    });
  return bytes;
}

async function openAll(
  items: string[],
  what: string,
  ctx: SourceContext,
  pins?: RepomdPins,
): Promise<OpenedRepo[]> {
  return Promise.all(
    items.map(async (item) => {
      ctx.log(`loading ${what} ${item}`);
      const repo = await openRepo(
        locationOf(item, ctx),
        repoContext(ctx),
        await pinnedRepomd(item, pins, ctx),
      );
      ctx.log(
        `${item}: ${repo.repodata.packages.length} packages, revision ${repo.repodata.revision || "(none)"}`,
      );
      return repo;
    }),
  );
}

/**
 * Lookaside repos of any source type: yum repositories at allowed
 * locations, opened as a `repo` source's are; with `pins` (from
 * `pinRepos`), exactly the pinned revisions.
 */
export function openLookaside(
  items: string[],
  ctx: SourceContext,
  pins?: RepomdPins,
): Promise<OpenedRepo[]> {
  return openAll(items, "lookaside repo", ctx, pins);
}

/**
 * The `repo` source: yum repositories under an allowed root or URL prefix,
 * pinned to their repomd.xml. Their revision, when it is a number (Pungi
 * writes the Koji event there), becomes the compose's `koji_event`.
 */
export const repoSource: Source<RepoPinned> = {
  async resolve(compose, ctx) {
    const source = listOf(compose.source);
    const lookaside = listOf(compose.lookasideRepos);
    const [a, b] = await Promise.all([
      pinRepos(source, "source", ctx),
      pinRepos(lookaside, "lookaside repo", ctx),
    ]);
    const repomd = { ...b, ...a };
    pinnedBytes.set(
      repomd,
      new Map([...(pinnedBytes.get(b) ?? []), ...(pinnedBytes.get(a) ?? [])]),
    );
    return { source, lookaside, repomd };
  },
  async open(pinned, ctx) {
    const [repos, lookaside] = await Promise.all([
      openAll(pinned.source, "source", ctx, pinned.repomd),
      openLookaside(pinned.lookaside, ctx, pinned.repomd),
    ]);
    const revision = repos[0]?.repodata.revision ?? "";
    return { repos, lookaside, kojiEvent: /^\d{1,15}$/.test(revision) ? Number(revision) : null };
  },
};
