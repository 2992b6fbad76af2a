/**
 * Streaming decompression and checksums for repodata files. This is the one
 * file in `src/rpm` that imports `node:*`: zlib's native inflate is several
 * times faster than a JS inflater on 50 MB primaries.
 *
 * Everything here passes chunks along as they come, so a metadata file is
 * never held whole, compressed or not.
 */
import { createHash } from "node:crypto";
import { Readable, type Transform, type TransformOptions } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setImmediate as setImmediatePromise } from "node:timers/promises";
import { createGunzip, type ZlibOptions } from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
import xzDecompressModule from "xz-decompress";
import { concatBytes } from "./bytes.ts";

/** Compression of a repodata file, from its magic bytes. */
export type Compression = "gzip" | "xz" | "zstd" | "bzip2" | "none";

export function detectCompression(bytes: Uint8Array): Compression {
  const [a, b, c, d] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (a === 0x1f && b === 0x8b) return "gzip";
  if (a === 0xfd && b === 0x37 && c === 0x7a && d === 0x58) return "xz";
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return "zstd";
  if (a === 0x42 && b === 0x5a && c === 0x68) return "bzip2";
  return "none";
}

/** Bytes per zlib output chunk: fewer hand-offs than the 16 KiB default. */
const ZLIB_CHUNK = 256 * 1024;
/**
 * Bytes decompressed ahead of the parser: inflate runs on libuv's pool, so
 * with this much buffered it overlaps parsing instead of waiting for it.
 */
const READ_AHEAD = 1024 * 1024;
const GUNZIP_OPTIONS: ZlibOptions & TransformOptions = {
  chunkSize: ZLIB_CHUNK,
  readableHighWaterMark: READ_AHEAD,
};

/**
 * Decompress a stream by its content (not by file name, which mirrors
 * sometimes get wrong). Throws on bzip2: createrepo_c only uses it for the
 * sqlite databases, which we never read, and Node has no bzip2.
 */
export async function* decompressStream(
  source: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  try {
    while (headBytes < 4) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headBytes += r.value.length;
    }
    const first = concatBytes(head);
    const rest = (async function* () {
      yield first;
      for (;;) {
        if (ended) return;
        const r = await it.next();
        if (r.done) {
          ended = true;
          return;
        }
        yield r.value;
      }
    })();
    switch (detectCompression(first)) {
      case "gzip":
        yield* throughTransform(rest, createGunzip(GUNZIP_OPTIONS));
        return;
      case "zstd":
        yield* zstdStream(rest);
        return;
      case "xz":
        yield* xzStream(rest);
        return;
      case "bzip2":
        throw new Error(`${what}: bzip2-compressed metadata is not supported`);
      case "none":
        yield* rest;
    }
  } finally {
    if (!ended) await it.return?.();
  }
}

/** `source` through a Node transform; errors on either side reach the reader. */
async function* throughTransform(
  source: AsyncIterable<Uint8Array>,
  transform: Transform,
): AsyncGenerator<Uint8Array> {
  // The pipeline's own rejection repeats what the transform's reader throws.
  const input = Readable.from(source, { objectMode: false, highWaterMark: READ_AHEAD });
  pipeline(input, transform).catch(() => {});
  for await (const chunk of transform as AsyncIterable<Uint8Array>) {
    yield chunk;
    // While buffered chunks last, the reader is fed through microtasks and
    // the event loop never turns: zlib's completions (which start its next
    // piece of work on the thread pool) would wait until the buffer ran
    // dry, and inflating would alternate with parsing instead of overlapping.
    await setImmediatePromise();
  }
}

async function* zstdStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const zstd = new ZstdDecompress((chunk) => {
    out.push(chunk);
  });
  for await (const chunk of source) {
    zstd.push(chunk);
    yield* out.splice(0);
  }
  zstd.push(new Uint8Array(0), true);
  yield* out.splice(0);
}

async function* xzStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = Readable.toWeb(Readable.from(source, { objectMode: false }));
  yield* webStreamChunks(
    new xzDecompressModule.XzReadableStream(input as ReadableStream<Uint8Array>),
  );
}

/** The chunks of a web stream; stopping the iteration early cancels the stream. */
export async function* webStreamChunks(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Every chunk of a (small) stream, joined. */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return concatBytes(parts);
}

/** Node hash names of repomd checksum types (`sha` is yum's old name for sha1). */
export const HASHES: Record<string, string> = {
  md5: "md5",
  sha: "sha1",
  sha1: "sha1",
  sha224: "sha224",
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
};

/**
 * Pass `source` through unchanged while hashing it, and throw after its last
 * chunk when the digest is not `expected`: whatever consumed the chunks must
 * then drop what it made of them.
 */
export async function* verifyChecksum(
  source: AsyncIterable<Uint8Array>,
  type: string,
  expected: string,
): AsyncGenerator<Uint8Array> {
  const algo = HASHES[type.toLowerCase()];
  if (!algo) throw new Error(`unsupported checksum type "${type}"`);
  const hash = createHash(algo);
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
  const got = hash.digest("hex");
  if (got !== expected.trim().toLowerCase()) {
    throw new Error(
      `its ${type} is ${got}, but repomd.xml says ${expected} (corrupt or truncated)`,
    );
  }
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
