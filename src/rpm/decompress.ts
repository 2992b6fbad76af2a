/**
 * Decompression and hashing for repodata files. This is the one file in
 * `src/rpm` that imports `node:*` (zlib's native inflate is several times
 * faster than a JS inflater on 50 MB primaries).
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";
import xzDecompressModule from "xz-decompress";

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

/**
 * Decompress by content (not by file name, which mirrors sometimes get
 * wrong). Throws on bzip2: createrepo_c only uses it for the sqlite
 * databases, which we never read.
 */
export async function decompress(bytes: Uint8Array, what: string): Promise<Uint8Array> {
  switch (detectCompression(bytes)) {
    case "gzip":
      return gunzipSync(bytes);
    case "zstd":
      return zstdDecompress(bytes);
    case "xz":
      return xzDecompress(bytes);
    case "bzip2":
      throw new Error(`${what}: bzip2-compressed metadata is not supported`);
    case "none":
      return bytes;
  }
}

async function xzDecompress(bytes: Uint8Array): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = new xzDecompressModule.XzReadableStream(input).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
