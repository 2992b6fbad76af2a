/**
 * Streaming compression of repodata files, hashing both the uncompressed and
 * the stored bytes on the way (repomd.xml needs checksum, size, open-checksum
 * and open-size) so no file is read back or held in memory whole.
 *
 * gz uses node:zlib (libuv thread pool, so several files compress in
 * parallel); zst pipes through the `zstd` CLI, a separate process — Node 20's
 * zlib has no zstd and the npm bindings need a binary download at install.
 */
import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Transform, type TransformCallback, type TransformOptions } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip, gzip, type ZlibOptions } from "node:zlib";
import { CappedText } from "./capped-text.ts";

export const COMPRESSIONS = ["gz", "zst"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * gz is what every dnf/yum reads; zst needs a libsolv built with zstd
 * (Fedora ≥ 33, RHEL ≥ 9, Debian's libsolv).
 */
export const DEFAULT_COMPRESSION: Compression = "gz";
/** zlib's default: level 9 costs ~2× the time for ~3 % smaller repodata. */
export const GZIP_LEVEL = 6;
/**
 * For small repodata (`fast`): half the time of level 6 for ~30 % more
 * bytes, which below a few thousand packages is some hundred KB that dnf
 * fetches in milliseconds, while the compose waits for the compression.
 */
export const GZIP_LEVEL_FAST = 1;
/** zstd's default: already smaller than gzip -9, at a third of the time of -10. */
export const ZSTD_LEVEL = 3;
/**
 * Input the compressor may queue, so the caller can serialise the next batch
 * of packages while the previous one is being compressed on another core.
 */
const INPUT_HIGH_WATER_MARK = 4 << 20;
const GZIP_CHUNK_SIZE = 64 * 1024;

/** File-name suffix of a compression (`.gz`, `.zst`). */
export function compressionSuffix(compression: Compression): string {
  return `.${compression}`;
}

export interface CompressorOptions {
  /** gz: the fast level instead of zlib's default. */
  fast?: boolean;
  /** Kills the zstd process / destroys the stream. */
  signal?: AbortSignal;
  zstdBin?: string;
}

class ZstdProcessCompressor extends Transform {
  readonly #child;
  readonly #exited: Promise<void>;

  constructor(bin: string, opts: CompressorOptions) {
    super({ highWaterMark: INPUT_HIGH_WATER_MARK });
    const spawnOpts = opts.signal ? { signal: opts.signal } : {};
    this.#child = spawn(bin, ["-q", "-c", `-${ZSTD_LEVEL}`], {
      ...spawnOpts,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const child = this.#child;
    const stderr = new CappedText();
    child.stderr.setEncoding("utf8").on("data", (d: string) => stderr.append(d));
    this.#exited = new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${bin} exited with ${code ?? signal}: ${stderr.toString().trim()}`));
      });
    });
    this.#exited.catch((err: unknown) => this.destroy(toError(err)));
    child.stdin.on("error", (err) => this.destroy(err));
    // No backpressure towards zstd's output: it is a fraction of the input,
    // which is throttled, and the consumer is a local file.
    child.stdout.on("data", (chunk: Buffer) => this.push(chunk));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#child.stdin.write(chunk)) cb();
    else this.#child.stdin.once("drain", () => cb());
  }

  override _flush(cb: TransformCallback): void {
    this.#child.stdin.end();
    this.#exited.then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.#child.exitCode === null) this.#child.kill();
    cb(err);
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

const gzipAsync = promisify(gzip);

/**
 * gzip `data` in one call on the libuv pool (small files: no stream to set
 * up). The output chunk is as large as the input, so the whole file comes
 * back in one piece instead of a main-thread callback per 16 KB.
 */
export function gzipBuffer(data: Uint8Array, opts: { fast?: boolean } = {}): Promise<Buffer> {
  return gzipAsync(data, {
    level: opts.fast ? GZIP_LEVEL_FAST : GZIP_LEVEL,
    chunkSize: Math.max(GZIP_CHUNK_SIZE, data.length + 1024),
  });
}

/** A stream that compresses what is written to it. */
export function createCompressor(
  compression: Compression,
  opts: CompressorOptions = {},
): Transform {
  if (compression === "zst") return new ZstdProcessCompressor(opts.zstdBin ?? "zstd", opts);
  const gzipOpts: ZlibOptions & TransformOptions = {
    level: opts.fast ? GZIP_LEVEL_FAST : GZIP_LEVEL,
    chunkSize: GZIP_CHUNK_SIZE,
    highWaterMark: INPUT_HIGH_WATER_MARK,
  };
  return createGzip(gzipOpts);
}

/** What repomd.xml records about one compressed file. */
export interface CompressedFile {
  path: string;
  /** Bytes on disk and their digest. */
  size: number;
  checksum: string;
  /** Bytes before compression and their digest. */
  openSize: number;
  openChecksum: string;
}

export interface CompressedFileWriter {
  /** Resolves once the chunk is accepted (waits while the compressor is behind). */
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes and closes the file; rejects if compression or writing failed. */
  end(): Promise<CompressedFile>;
  /** Stops, and removes the partial file. Safe to call after a failure. */
  abort(): Promise<void>;
}

function hashTap(hash: Hash, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      cb(null, chunk);
    },
  });
}

/**
 * Compresses a stream of chunks into `path` (created or truncated).
 * `checksumType` is a node:crypto digest name (sha256 …).
 */
export function createCompressedFileWriter(
  path: string,
  compression: Compression,
  opts: CompressorOptions & { checksumType?: string } = {},
): CompressedFileWriter {
  const algo = opts.checksumType ?? "sha256";
  const openHash = createHash(algo);
  const storedHash = createHash(algo);
  const open = { bytes: 0 };
  const stored = { bytes: 0 };
  const compressor = createCompressor(compression, opts);
  const pipelineOpts = opts.signal ? { signal: opts.signal } : {};
  const done = pipeline(
    compressor,
    hashTap(storedHash, stored),
    createWriteStream(path),
    pipelineOpts,
  );
  // Failures surface through write()/end(); keep an early one from being "unhandled".
  done.catch(() => undefined);

  return {
    async write(chunk) {
      openHash.update(chunk);
      open.bytes += chunk.length;
      if (!compressor.write(chunk)) await Promise.race([once(compressor, "drain"), done]);
    },
    async end() {
      compressor.end();
      await done;
      return {
        path,
        size: stored.bytes,
        checksum: storedHash.digest("hex"),
        openSize: open.bytes,
        openChecksum: openHash.digest("hex"),
      };
    },
    async abort() {
      compressor.destroy();
      await done.catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}
