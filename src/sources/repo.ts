import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, linkSync, lstatSync } from "node:fs";
import { constants, copyFile, readFile, realpath, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { isUnderRoot, type RepoLocation, type RepoSourcePolicy } from "../domain/repo-source.ts";
import {
  REPOMD_PATH,
  type ReadFile,
  type Repodata,
  readRepodataWithRepomd,
} from "../rpm/repodata-read.ts";
import type { PackageRecord } from "../rpm/types.ts";
import { ComposeError } from "../worker/errors.ts";
import { fetchBytes, fetchOk, fetchStream } from "./fetch.ts";
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
}

/** `rel` must stay inside the repository (a hostile location href must not escape it). */
function insideRoot(root: string, rel: string): string {
  const abs = join(root, rel);
  const r = relative(root, abs);
  if (r.startsWith("..") || isAbsolute(r))
    throw new ComposeError(`location "${rel}" points outside the repository ${root}`);
  return abs;
}

/**
 * link(2) and lstat(2) on a local file system take microseconds; through the
 * libuv pool each costs two thread hand-offs, which on a busy host (the
 * bench's 2 cores) made placing 313 RPMs take 20–60 ms instead of ~5. So
 * these two are synchronous; the caller yields between batches.
 */
async function linkOrCopy(src: string, dest: string): Promise<"link" | "copy"> {
  try {
    linkSync(src, dest);
    return "link";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
  }
  // Across filesystems: reflink where the filesystem can, else a plain copy.
  await copyFile(src, dest, constants.COPYFILE_FICLONE);
  return "copy";
}

async function openLocal(path: string, ctx: RepoSourceContext): Promise<OpenedRepo> {
  let root: string;
  try {
    root = await realpath(path);
  } catch {
    throw new ComposeError(`repository ${path} does not exist or is not readable`);
  }
  // The request check saw the path as written; symlinks must not lead out of the allowed roots.
  if (!ctx.policy.ODCS_ALLOWED_REPO_ROOTS.some((r) => isUnderRoot(root, r))) {
    throw new ComposeError(
      `repository ${path} resolves to ${root}, which is outside the allowed roots`,
    );
  }
  let repomd: Uint8Array;
  try {
    repomd = await readFile(insideRoot(root, REPOMD_PATH));
  } catch {
    throw new ComposeError(`${path} is not a yum repository: ${REPOMD_PATH} is missing`);
  }
  const open: ReadFile = async (rel) =>
    createReadStream(insideRoot(root, rel), { highWaterMark: METADATA_READ_BYTES });
  const repodata = await ctx.cache.get(path, repomd, () => parse(path, open, repomd));
  // realpath(3) lstats every component of every file (~30 ms for 1 600
  // RPMs); the few package dirs are resolved once, then one lstat a file.
  const realDirs = new Map<string, Promise<string>>();
  const realFile = async (abs: string) => {
    const dir = dirname(abs);
    let realDir = realDirs.get(dir);
    if (!realDir) {
      realDir = realpath(dir);
      realDirs.set(dir, realDir);
    }
    const file = join(await realDir, basename(abs));
    return lstatSync(file).isSymbolicLink() ? realpath(file) : file;
  };
  // The file itself, never a symlink, and only from inside the allowed roots.
  const resolve = async (pkg: PackageRecord) => {
    const real = await realFile(insideRoot(root, pkg.location));
    if (!ctx.policy.ODCS_ALLOWED_REPO_ROOTS.some((r) => isUnderRoot(real, r))) {
      throw new ComposeError(
        `${pkg.location} in ${path} resolves to ${real}, outside the allowed roots`,
      );
    }
    return real;
  };
  return {
    origin: path,
    repodata,
    async readHeader(pkg) {
      return readLocalRpmHeader(await resolve(pkg), firstReadBytes(pkg));
    },
    async materialise(pkg, dest) {
      try {
        return await linkOrCopy(await resolve(pkg), dest);
      } catch (err) {
        if (err instanceof ComposeError) throw err;
        throw new ComposeError(
          `${pkg.location} is listed in ${path} but cannot be read: ${(err as Error).message}`,
        );
      }
    },
  };
}

/**
 * Stream the source's metadata in (filelists and other too: the in-process
 * repodata writer needs file lists and changelogs). A network failure
 * anywhere in a file keeps its retryable flag.
 */
async function parse(origin: string, open: ReadFile, repomd: Uint8Array): Promise<Repodata> {
  try {
    return await readRepodataWithRepomd(open, repomd, { filelists: true, other: true });
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
  const href = (rel: string) => new URL(rel, url).href;
  const repomd = await fetchBytes(href(REPOMD_PATH), ctx.signal, ctx.downloadTimeoutMs);
  const open: ReadFile = (rel) => fetchStream(href(rel), ctx.signal, ctx.downloadTimeoutMs);
  const repodata = await ctx.cache.get(url, repomd, () => parse(url, open, repomd));
  return {
    origin: url,
    repodata,
    readHeader(pkg, signal) {
      return fetchRpmHeader(new URL(pkg.location, pkg.locationBase ?? url).href, {
        signal,
        timeoutMs: ctx.downloadTimeoutMs,
        initialBytes: firstReadBytes(pkg),
      });
    },
    async materialise(pkg, dest, signal) {
      const href = new URL(pkg.location, pkg.locationBase ?? url).href;
      const res = await fetchOk(href, signal, ctx.downloadTimeoutMs);
      const algo = pkg.checksumType === "sha" ? "sha1" : pkg.checksumType;
      const { t, digest } = hashingTransform(algo);
      if (!res.body) throw new ComposeError(`${href} answered with no body`, { retryable: true });
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), t, createWriteStream(dest), {
        signal,
      });
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
      return "download";
    },
  };
}

/** Open one `source` item or lookaside repo of a `repo` compose. */
export function openRepo(loc: RepoLocation, ctx: RepoSourceContext): Promise<OpenedRepo> {
  return loc.kind === "path" ? openLocal(loc.path, ctx) : openRemote(loc.url, ctx);
}
