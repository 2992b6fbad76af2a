import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { type RpmHeader, readRpmHeaderAt } from "./header.ts";
import { headerToRecord } from "./header-record.ts";
import type { PackageRecord } from "./types.ts";

/**
 * Read only the headers of a local .rpm file (positioned reads; the payload
 * is never read). Throws `RpmFormatError` for a file that is not an RPM.
 */
export async function readRpmFileHeader(path: string, initialBytes?: number): Promise<RpmHeader> {
  const fh = await open(path, "r");
  try {
    return await readRpmHeaderAt(async (offset, length) => {
      const buf = new Uint8Array(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    }, initialBytes);
  } finally {
    await fh.close();
  }
}

/** Streamed digest of a whole file, hex. `algorithm` is a Node hash name (sha256, sha1 …). */
export async function fileDigest(path: string, algorithm = "sha256"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/**
 * A {@link PackageRecord} for a local .rpm (e.g. a Koji download with no
 * repodata): headers + a streamed checksum of the file + its size and mtime.
 * `location` defaults to the file's base name.
 */
export async function readRpmFileRecord(
  path: string,
  opts: { checksumType?: string; location?: string } = {},
): Promise<PackageRecord> {
  const checksumType = opts.checksumType ?? "sha256";
  const [header, pkgid, st] = await Promise.all([
    readRpmFileHeader(path),
    fileDigest(path, checksumType),
    stat(path),
  ]);
  return headerToRecord(header, {
    pkgid,
    checksumType,
    sizePackage: st.size,
    timeFile: Math.floor(st.mtimeMs / 1000),
    location: opts.location ?? basename(path),
  });
}
