import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UPLOAD_ID_RE, type UploadFile } from "../domain/uploads.ts";
import { headerToRecord } from "../rpm/header-record.ts";
import type { PackageRecord } from "../rpm/types.ts";
import { MANIFEST, uploadDir } from "../uploads/store.ts";
import { ComposeError } from "./errors.ts";
import { limiter } from "./limit.ts";
import { batchedPlacer } from "./place/batched-placer.ts";
import { openLookaside, pinRepos, type RepomdPins } from "./repo.ts";
import { firstReadBytes, readLocalRpmHeader, SIGKEY_READ_CONCURRENCY } from "./sigkeys.ts";
import type { OpenedRepo, Source, SourceContext } from "./types.ts";

/**
 * An `upload` compose's inputs: the upload id, the sha256 of each of its
 * files (an upload never changes, but a pin says what was composed), and
 * its lookaside repos with their repomd pins, as a `repo` compose has.
 */
export type UploadPinned = {
  upload: string;
  files: { [filename: string]: string };
  lookaside: string[];
  repomd: RepomdPins;
};

const listOf = (s: string | null) => (s ? s.split(" ").filter((x) => x !== "") : []);

/** The upload's files as validated on arrival; gone (expired, deleted) is final, not retried. */
async function readManifest(id: string, ctx: SourceContext): Promise<UploadFile[]> {
  if (!UPLOAD_ID_RE.test(id)) throw new ComposeError(`"${id}" is not an upload id`);
  let text: string;
  try {
    text = await readFile(join(uploadDir(ctx.config.ODCS_UPLOAD_DIR, id), MANIFEST), "utf8");
  } catch {
    throw new ComposeError(
      `upload ${id} is gone (expired or deleted) from ${ctx.config.ODCS_UPLOAD_DIR}; upload the RPMs again and request a new compose`,
    );
  }
  return JSON.parse(text) as UploadFile[];
}

/**
 * The upload's RPMs as one package set: each file's headers read (a few
 * KB each, never the payload) and turned into the record createrepo_c
 * would write, so select, depsolve, the sigkey check against headers and
 * the repodata of the compose are the same as for a `repo` compose.
 */
async function openUpload(pinned: UploadPinned, ctx: SourceContext): Promise<OpenedRepo> {
  const id = pinned.upload;
  const root = resolve(ctx.config.ODCS_UPLOAD_DIR);
  const dir = uploadDir(root, id);
  const files = await readManifest(id, ctx);
  for (const f of files)
    if (pinned.files[f.filename] !== f.sha256)
      throw new ComposeError(`upload ${id} changed since the compose was pinned (${f.filename})`);
  const read = limiter(SIGKEY_READ_CONCURRENCY);
  const packages = await Promise.all(
    files.map((f) =>
      read(async () => {
        const path = join(dir, f.filename);
        let header: Awaited<ReturnType<typeof readLocalRpmHeader>>;
        try {
          header = await readLocalRpmHeader(path, 64 * 1024);
        } catch (err) {
          throw new ComposeError(
            `cannot read ${f.filename} of upload ${id}: ${(err as Error).message}`,
          );
        }
        return headerToRecord(header, {
          pkgid: f.sha256,
          sizePackage: f.size,
          location: f.filename,
        });
      }),
    ),
  );
  const place = batchedPlacer([root]);
  const where = (pkg: PackageRecord) => join(dir, pkg.location);
  ctx.log(`upload ${id}: ${packages.length} packages`);
  return {
    origin: `upload ${id}`,
    repodata: { repomdChecksum: "", revision: "", packages },
    readHeader: (pkg) => readLocalRpmHeader(where(pkg), firstReadBytes(pkg)),
    async materialise(pkg, dest) {
      const placed = await place({ src: where(pkg), dest });
      if (placed.ok) return placed.how;
      throw new ComposeError(
        `${pkg.location} of upload ${id} cannot be read: ${placed.outside ? "it is outside the upload dir" : placed.message}`,
      );
    },
  };
}

/** The `upload` source (ours): RPMs sent to POST /api/1/uploads/, lookaside repos as for `repo`. */
export const uploadSource: Source<UploadPinned> = {
  async resolve(compose, ctx) {
    const upload = compose.source;
    const lookaside = listOf(compose.lookasideRepos);
    ctx.log(`pinning upload ${upload}`);
    const [files, repomd] = await Promise.all([
      readManifest(upload, ctx),
      pinRepos(lookaside, "lookaside repo", ctx),
    ]);
    return {
      upload,
      files: Object.fromEntries(files.map((f) => [f.filename, f.sha256])),
      lookaside,
      repomd,
    };
  },
  async open(pinned, ctx) {
    const [repo, lookaside] = await Promise.all([
      openUpload(pinned, ctx),
      openLookaside(pinned.lookaside, ctx, pinned.repomd),
    ]);
    return { repos: [repo], lookaside, kojiEvent: null };
  },
};
