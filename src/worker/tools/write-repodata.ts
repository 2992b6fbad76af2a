/**
 * Writes `<dir>/repodata` (primary, filelists, other + repomd.xml) from
 * PackageRecords, without opening any RPM. The three XML files are serialised
 * in batches and streamed into three compressors running in parallel;
 * repomd.xml is written last, via a temporary file and a rename, so a reader
 * never sees a repomd.xml that points at files not yet complete.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  FILELISTS_FOOTER,
  filelistsHeader,
  filelistsPackageXml,
  OTHER_FOOTER,
  otherHeader,
  otherPackageXml,
  PRIMARY_FOOTER,
  primaryHeader,
  primaryPackageXml,
  type RepomdRecord,
  repomdXml,
} from "../../rpm/repodata-write.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import {
  type CompressedFile,
  type CompressedFileWriter,
  type Compression,
  compressionSuffix,
  createCompressedFileWriter,
} from "./compress.ts";

/** Packages serialised per round before handing the bytes to the compressors. */
const BATCH_SIZE = 256;

export interface RepodataPackage {
  pkg: PackageRecord;
  /** `location href` in the new repository, relative to its root. */
  location: string;
  /** `location xml:base`, when the package is served from elsewhere. */
  locationBase?: string;
}

export interface WriteRepodataOptions {
  compression: Compression;
  /** Defaults to `String(now)`, as createrepo_c does. */
  revision?: string;
  checksumType?: "sha256";
  /** Unix seconds; repomd timestamps and the default revision. */
  now: number;
  signal?: AbortSignal;
}

export interface RepomdInfo {
  revision: string;
  /** sha256 of the repomd.xml written. */
  repomdChecksum: string;
  /** primary, filelists, other — in repomd order. */
  records: RepomdRecord[];
}

const KINDS = ["primary", "filelists", "other"] as const;
type Kind = (typeof KINDS)[number];

const HEADERS: Record<Kind, (n: number) => string> = {
  primary: primaryHeader,
  filelists: filelistsHeader,
  other: otherHeader,
};
const FOOTERS: Record<Kind, string> = {
  primary: PRIMARY_FOOTER,
  filelists: FILELISTS_FOOTER,
  other: OTHER_FOOTER,
};

function serialiseBatch(batch: readonly RepodataPackage[]): Record<Kind, string> {
  let primary = "";
  let filelists = "";
  let other = "";
  for (const { pkg, location, locationBase } of batch) {
    primary += primaryPackageXml(pkg, location, locationBase);
    filelists += filelistsPackageXml(pkg);
    other += otherPackageXml(pkg);
  }
  return { primary, filelists, other };
}

async function writeAll(
  writers: Record<Kind, CompressedFileWriter>,
  parts: Record<Kind, string>,
): Promise<void> {
  await Promise.all(KINDS.map((k) => writers[k].write(Buffer.from(parts[k], "utf8"))));
}

async function streamXml(
  writers: Record<Kind, CompressedFileWriter>,
  packages: readonly RepodataPackage[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const n = packages.length;
  await writeAll(writers, {
    primary: HEADERS.primary(n),
    filelists: HEADERS.filelists(n),
    other: HEADERS.other(n),
  });
  for (let i = 0; i < n; i += BATCH_SIZE) {
    signal?.throwIfAborted();
    await writeAll(writers, serialiseBatch(packages.slice(i, i + BATCH_SIZE)));
  }
  await writeAll(writers, FOOTERS);
}

/**
 * Writes the repodata of `packages` (in the given order) into `dir/repodata`,
 * creating it if needed. Data files get createrepo_c's unique names
 * (`<checksum>-primary.xml.gz`); files already in the directory are left
 * alone. Rejects — after removing its partial files — on I/O or compressor
 * failure or when `opts.signal` aborts; repomd.xml is then untouched.
 */
export async function writeRepodata(
  dir: string,
  packages: readonly RepodataPackage[],
  opts: WriteRepodataOptions,
): Promise<RepomdInfo> {
  const checksumType = opts.checksumType ?? "sha256";
  const repodata = join(dir, "repodata");
  await mkdir(repodata, { recursive: true });
  const tmpTag = randomBytes(6).toString("hex");
  const suffix = compressionSuffix(opts.compression);
  const writerOpts = { checksumType, ...(opts.signal ? { signal: opts.signal } : {}) };
  const open = (k: Kind) =>
    createCompressedFileWriter(
      join(repodata, `.${tmpTag}-${k}.xml${suffix}.tmp`),
      opts.compression,
      writerOpts,
    );
  const writers = { primary: open("primary"), filelists: open("filelists"), other: open("other") };

  let files: Record<Kind, CompressedFile>;
  try {
    await streamXml(writers, packages, opts.signal);
    const [primary, filelists, other] = await Promise.all([
      writers.primary.end(),
      writers.filelists.end(),
      writers.other.end(),
    ]);
    files = { primary, filelists, other };
  } catch (err) {
    await Promise.all(KINDS.map((k) => writers[k].abort()));
    throw err;
  }

  const records = await Promise.all(
    KINDS.map(async (k): Promise<RepomdRecord> => {
      const f = files[k];
      const name = `${f.checksum}-${k}.xml${suffix}`;
      await rename(f.path, join(repodata, name));
      return {
        type: k,
        checksumType,
        checksum: f.checksum,
        openChecksum: f.openChecksum,
        location: `repodata/${name}`,
        timestamp: opts.now,
        size: f.size,
        openSize: f.openSize,
      };
    }),
  );

  const revision = opts.revision ?? String(opts.now);
  const xml = Buffer.from(repomdXml(revision, records), "utf8");
  const tmpRepomd = join(repodata, `.${tmpTag}-repomd.xml.tmp`);
  await writeFile(tmpRepomd, xml);
  await rename(tmpRepomd, join(repodata, "repomd.xml"));
  return { revision, repomdChecksum: createHash("sha256").update(xml).digest("hex"), records };
}
