import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import tar from "tar-stream";
import {
  DomainError,
  InsufficientStorageError,
  InvalidRequestError,
  PayloadTooLargeError,
} from "../domain/errors.ts";
import type { UploadFile, UploadLimits, UploadStore } from "../domain/uploads.ts";
import { RpmFormatError, type RpmHeader, tryParseRpmHeader } from "../rpm/header.ts";
import { isDiskFull } from "../sources/errors.ts";

/** What each upload dir holds beside its RPMs: the files as validated (the worker reads it). */
export const MANIFEST = "manifest.json";

/**
 * Header bytes a file may need before it is called "not an RPM": real
 * headers are KBs to a few MB (file lists); this stops a stream that only
 * claims a huge header from being buffered.
 */
const MAX_HEADER_BYTES = 64 * 1024 ** 2;

const RPM_LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb];

const MIB = 1024 ** 2;
const mib = (bytes: number) => `${Math.floor(bytes / MIB)} MiB`;

/** The directory of upload `id` under `root`. */
export const uploadDir = (root: string, id: string) => join(resolve(root), id);

/** Running total of the upload's bytes, checked on every chunk. */
class Budget {
  used = 0;
  constructor(private readonly limits: UploadLimits) {}
  add(n: number): void {
    this.used += n;
    if (this.used <= this.limits.maxBytes) return;
    const q = this.limits.quotaLeft;
    throw new PayloadTooLargeError(
      q
        ? `Upload refused: it exceeds your upload quota of ${mib(q.quotaBytes)} (ODCS_UPLOAD_QUOTA_MB); ${mib(q.bytes)} of it is left until your other uploads expire or are deleted`
        : `Upload refused: it is larger than the limit of ${mib(this.limits.maxBytes)} per upload (ODCS_UPLOAD_MAX_MB)`,
    );
  }
}

const notRpm = (sentAs: string, why: string) =>
  new InvalidRequestError(`${sentAs} is not an RPM: ${why}`);

/**
 * Write one file's bytes to `dest` while hashing them and parsing its
 * lead, signature and main headers from the first bytes; the payload is
 * streamed through and never kept.
 */
async function receiveFile(
  src: AsyncIterable<Buffer>,
  sentAs: string,
  dest: string,
  budget: Budget,
): Promise<{ header: RpmHeader; size: number; sha256: string }> {
  const hash = createHash("sha256");
  const out = createWriteStream(dest);
  const closed = finished(out);
  // An abandoned write stream would otherwise report its error unhandled.
  closed.catch(() => {});
  let size = 0;
  let head: Buffer | undefined = Buffer.alloc(0);
  let needed = 0;
  let header: RpmHeader | undefined;
  try {
    for await (const chunk of src) {
      budget.add(chunk.length);
      size += chunk.length;
      hash.update(chunk);
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= 4 && !RPM_LEAD_MAGIC.every((m, i) => head?.[i] === m))
          throw notRpm(sentAs, "it does not start with the RPM lead magic (ed ab ee db)");
        if (head.length >= needed) {
          let r: ReturnType<typeof tryParseRpmHeader>;
          try {
            r = tryParseRpmHeader(head);
          } catch (err) {
            if (err instanceof RpmFormatError) throw notRpm(sentAs, err.message);
            throw err;
          }
          if (r.ok) {
            header = r.header;
            head = undefined;
          } else {
            needed = r.needed;
            if (needed > MAX_HEADER_BYTES)
              throw notRpm(sentAs, `its headers claim ${needed} bytes`);
          }
        }
      }
      if (!out.write(chunk)) {
        await new Promise<void>((res, rej) => {
          out.once("drain", res);
          out.once("error", rej);
        });
      }
    }
    out.end();
    await closed;
  } catch (err) {
    out.destroy();
    throw err;
  }
  if (header === undefined)
    throw notRpm(
      sentAs,
      size === 0 ? "it is empty" : `its headers are cut off after ${size} bytes`,
    );
  if (size < header.headerEnd)
    throw notRpm(sentAs, `it ends at byte ${size}, inside its main header`);
  return { header, size, sha256: hash.digest("hex") };
}

/** Where a part or member came from, for messages: its file name, else its field name. */
const partName = (name: string | undefined, fallback: string) =>
  name && name.length > 0 ? name : fallback;

type Handle = (src: AsyncIterable<Buffer> & { resume(): unknown }, sentAs: string) => Promise<void>;

/** Feed each file part of a multipart/form-data body to `handle`, one after another. */
function readMultipart(input: Readable, contentType: string, handle: Handle): Promise<void> {
  return new Promise((resolveAll, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { "content-type": contentType } });
    } catch (err) {
      reject(
        new InvalidRequestError(`The multipart body cannot be read: ${(err as Error).message}`),
      );
      return;
    }
    // One file at a time, in body order: a part's stream waits (busboy
    // applies backpressure) until the one before it is stored.
    let handled: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.unpipe(bb);
      input.resume();
      reject(err);
    };
    bb.on("file", (field, stream, info) => {
      // A body that ends inside this part destroys the stream with busboy's
      // own error, maybe before `handle` reads it (or after it was resumed
      // unread): unheard, that 'error' would end the process. The reader
      // still sees it, and so does `bb`'s error handler below.
      stream.on("error", () => {});
      if (failed) {
        stream.resume();
        return;
      }
      const sentAs = partName(info.filename, field);
      handled = handled.then(() => (failed ? void stream.resume() : handle(stream, sentAs)));
      handled.catch(fail);
    });
    bb.on("field", (name) =>
      fail(
        new InvalidRequestError(
          `Form field "${name}" is not a file: send each RPM as a file part (curl -F "file=@x.rpm")`,
        ),
      ),
    );
    bb.on("error", (err) =>
      fail(new InvalidRequestError(`The multipart body cannot be read: ${(err as Error).message}`)),
    );
    bb.on("close", () => {
      handled.then(() => resolveAll(), fail);
    });
    input.on("error", fail);
    input.pipe(bb);
  });
}

/** Feed each regular file of a tar stream to `handle`, in order; directories are skipped. */
async function readTar(input: Readable, handle: Handle): Promise<void> {
  const extract = tar.extract();
  input.on("error", (err) => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const type = entry.header.type ?? "file";
      if (type === "directory") {
        entry.resume();
        continue;
      }
      if (type !== "file" && type !== "contiguous-file")
        throw new InvalidRequestError(
          `Tar member ${entry.header.name} is a ${type}; an upload takes regular files (RPMs) only`,
        );
      // A streamx Readable: chunks are Buffers, as with Node streams.
      await handle(entry as unknown as Parameters<Handle>[0], entry.header.name);
    }
  } catch (err) {
    input.unpipe(extract);
    input.resume();
    if (err instanceof DomainError) throw err;
    if (isDiskFull(err)) throw err;
    throw new InvalidRequestError(`The tar stream cannot be read: ${(err as Error).message}`);
  }
}

/**
 * The characters rpmbuild lets into a name, version, release or arch. The
 * stored file name is built from these header fields, so a crafted header
 * (`Name: ../../x`, an arch with a slash or NUL) must never reach a path.
 */
const RPM_FIELD_RE = /^[A-Za-z0-9_+%{}~^][A-Za-z0-9._+%{}~^-]*$/;

/** Refuse an RPM whose header fields could not be part of an RPM file name. */
function checkFileNameFields(h: RpmHeader, arch: string, sentAs: string): void {
  const fields = { name: h.name, version: h.version, release: h.release, arch };
  for (const [what, value] of Object.entries(fields)) {
    if (!RPM_FIELD_RE.test(value) || value.length > 255)
      throw notRpm(
        sentAs,
        `its ${what} ${JSON.stringify(value.slice(0, 100))} has characters an RPM file name cannot have`,
      );
  }
}

const nevraOf = (h: RpmHeader, arch: string) =>
  `${h.name}-${h.epoch ? `${h.epoch}:` : ""}${h.version}-${h.release}.${arch}`;

/** The disk of the upload dir filled: nothing of the upload is kept (507; see InsufficientStorageError). */
const noRoom = () =>
  new InsufficientStorageError(
    "Upload refused: the disk of ODCS_UPLOAD_DIR is full; nothing of it was kept, try again later",
  );

/** The upload store on a local (or shared) directory: `root/<id>/`. */
export function createUploadStore(root: string): UploadStore {
  return {
    async receive(id, contentType, body, limits) {
      const dir = uploadDir(root, id);
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw isDiskFull(err) ? noRoom() : err;
      }
      const budget = new Budget(limits);
      const files: UploadFile[] = [];
      const seen = new Map<string, string>();
      const handle: Handle = async (src, sentAs) => {
        if (files.length + 1 > limits.maxFiles) {
          src.resume();
          throw new PayloadTooLargeError(
            `Upload refused: it has more than ${limits.maxFiles} files (ODCS_UPLOAD_MAX_FILES)`,
          );
        }
        const part = join(dir, `.part-${files.length}`);
        const got = await receiveFile(src, sentAs, part, budget);
        const h = got.header;
        const arch = h.isSource ? "src" : h.arch;
        checkFileNameFields(h, arch, sentAs);
        const nevra = nevraOf(h, arch);
        const before = seen.get(nevra);
        if (before !== undefined)
          throw new InvalidRequestError(`${sentAs} and ${before} are the same package, ${nevra}`);
        seen.set(nevra, sentAs);
        const filename = `${h.name}-${h.version}-${h.release}.${arch}.rpm`;
        await rename(part, join(dir, filename));
        files.push({
          filename,
          sent_as: sentAs,
          name: h.name,
          epoch: String(h.epoch ?? 0),
          version: h.version,
          release: h.release,
          arch,
          nevra,
          size: got.size,
          sha256: got.sha256,
          sigkey: h.sigkey,
        });
      };
      const input = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
      const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
      try {
        if (type === "multipart/form-data") await readMultipart(input, contentType, handle);
        else if (type === "application/x-tar") await readTar(input, handle);
        else
          throw new InvalidRequestError(
            `Send the RPMs as multipart/form-data file parts or as one application/x-tar stream, not ${type || "a body without Content-Type"}`,
          );
        if (files.length === 0) throw new InvalidRequestError("The upload has no files");
        await writeFile(join(dir, MANIFEST), JSON.stringify(files));
      } catch (err) {
        input.destroy();
        await rm(dir, { recursive: true, force: true });
        throw isDiskFull(err) ? noRoom() : err;
      }
      return files;
    },
    async remove(id) {
      await rm(uploadDir(root, id), { recursive: true, force: true });
    },
  };
}
