import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, realpath, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { isAllowedPath } from "../domain/allowed-location.ts";
import type { RepoLocation, RepoSourcePolicy } from "../domain/repo-source.ts";
import {
  REPOMD_PATH,
  type ReadFile,
  type Repodata,
  readRepodataWithRepomd,
} from "../rpm/repodata-read.ts";
import type { PackageRecord } from "../rpm/types.ts";
import { ComposeError } from "../worker/errors.ts";
import { limiter } from "../worker/pipeline/map-limit.ts";
import { sharedFilePlacer } from "../worker/tools/file-placer.ts";
import { type PlaceRequest, type PlaceResult, realFile } from "../worker/tools/place-files.ts";
import { fetchBytes, fetchOk, fetchStream, readLocalBounded } from "./fetch.ts";
import { checkRealPath, locatePath, locateRealPath, locateUrl } from "./location.ts";
import type { RepodataCache } from "./repodata-cache.ts";
import { fetchRpmHeader, firstReadBytes, readLocalRpmHeader } from "./sigkeys.ts";
import type { OpenedRepo } from "./types.ts";

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

/** Downloads of one remote source in flight at once. */
const DOWNLOAD_CONCURRENCY = 16;

/**
 * One placement batch per tick: the pipeline asks for every file of an arch
 * at once, and the placement thread gets them in one message.
 */
function batchedPlacer(allowedRoots: readonly string[]) {
  type Waiting = { request: PlaceRequest; settle: (r: PlaceResult | Error) => void };
  let batch: Waiting[] | null = null;
  const flush = async () => {
    const b = batch ?? [];
    batch = null;
    let results: PlaceResult[] | Error;
    try {
      results = await sharedFilePlacer().place(
        b.map((w) => w.request),
        allowedRoots,
      );
    } catch (err) {
      results = err as Error;
    }
    for (const [i, w] of b.entries())
      w.settle(
        results instanceof Error ? results : (results[i] ?? new Error("no placement result")),
      );
  };
  return (request: PlaceRequest) =>
    new Promise<PlaceResult>((resolve, reject) => {
      if (!batch) {
        batch = [];
        queueMicrotask(() => void flush());
      }
      batch.push({ request, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
}

async function openLocal(path: string, ctx: RepoSourceContext): Promise<OpenedRepo> {
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
  const metadataFile = (rel: string) =>
    locateRealPath(root, rel, undefined, ctx.policy, `metadata file of ${path}`);
  let repomd: Uint8Array;
  try {
    repomd = await readLocalBounded(await metadataFile(REPOMD_PATH), ctx.maxRepomdBytes);
  } catch (err) {
    if (err instanceof ComposeError) throw err;
    throw new ComposeError(`${path} is not a yum repository: ${REPOMD_PATH} is missing`);
  }
  const open: ReadFile = async (rel) =>
    createReadStream(await metadataFile(rel), { highWaterMark: METADATA_READ_BYTES });
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

async function openRemote(url: string, ctx: RepoSourceContext): Promise<OpenedRepo> {
  const href = (rel: string) =>
    locateUrl(url, rel, undefined, ctx.policy, `metadata file of ${url}`);
  const pkgHref = (pkg: PackageRecord) =>
    locateUrl(url, pkg.location, pkg.locationBase, ctx.policy, `${packageName(pkg)} in ${url}`);
  const repomd = await fetchBytes(
    href(REPOMD_PATH),
    ctx.signal,
    ctx.downloadTimeoutMs,
    ctx.maxRepomdBytes,
  );
  const open: ReadFile = async (rel) =>
    fetchStream(href(rel), ctx.signal, ctx.downloadTimeoutMs, ctx.maxMetadataBytes);
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
        const res = await fetchOk(href, signal, ctx.downloadTimeoutMs);
        await destDir(dest);
        const algo = pkg.checksumType === "sha" ? "sha1" : pkg.checksumType;
        const { t, digest } = hashingTransform(algo);
        if (!res.body) throw new ComposeError(`${href} answered with no body`, { retryable: true });
        await pipeline(
          Readable.fromWeb(res.body as WebReadableStream),
          t,
          createWriteStream(dest),
          {
            signal,
          },
        );
        const got = digest();
        if (got !== pkg.pkgid) {
          await rm(dest, { force: true });
          throw new ComposeError(
            `${href} has ${pkg.checksumType} ${got}, but the metadata says ${pkg.pkgid}`,
            {
              retryable: true,
            },
          );
        }
        return "download" as const;
      }),
  };
}

/** Open one `source` item or lookaside repo of a `repo` compose. */
export function openRepo(loc: RepoLocation, ctx: RepoSourceContext): Promise<OpenedRepo> {
  return loc.kind === "path" ? openLocal(loc.path, ctx) : openRemote(loc.url, ctx);
}
