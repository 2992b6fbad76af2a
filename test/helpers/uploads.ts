/**
 * Bodies for POST /api/1/uploads/: multipart forms and tar streams of
 * files, as curl -F and `tar c` would send them.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import tar from "tar-stream";

export interface NamedBytes {
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export async function fromFiles(paths: readonly string[]): Promise<NamedBytes[]> {
  return Promise.all(
    paths.map(async (p) => ({ name: basename(p), bytes: new Uint8Array(await readFile(p)) })),
  );
}

/** A multipart/form-data body with one `file` part per entry. */
export function multipart(files: readonly NamedBytes[]): FormData {
  const fd = new FormData();
  for (const f of files) fd.append("file", new Blob([f.bytes]), f.name);
  return fd;
}

/** A tar archive of the entries (plus a directory member, which uploads skip). */
export async function tarball(files: readonly NamedBytes[]): Promise<Uint8Array<ArrayBuffer>> {
  const pack = tar.pack();
  pack.entry({ name: "rpms/", type: "directory" });
  for (const f of files) pack.entry({ name: `rpms/${f.name}` }, Buffer.from(f.bytes));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The upload JSON (the fields tests look at). */
export interface UploadJson {
  id: string;
  owner: string;
  state: string;
  size: number;
  time_to_expire: string;
  files: {
    filename: string;
    sent_as: string;
    nevra: string;
    size: number;
    sha256: string;
    sigkey: string | null;
  }[];
}
