/**
 * Wrapper around the `createrepo_c` CLI: the fallback when we hold no
 * PackageRecords for some RPMs (their headers must be read), and the oracle
 * our own repodata writer is tested against.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRepomd } from "../../rpm/repodata-parse.ts";
import { isNearlyFull, noSpaceError } from "../disk-full.ts";
import { CappedText } from "./capped-text.ts";

/**
 * Compression of primary/filelists/other. createrepo_c 0.17 knows gz, bz2 and
 * xz; zstd needs ≥ 0.20 (the run fails with createrepo_c's own message).
 */
export type CreaterepoCompression = "gz" | "bz2" | "xz" | "zst";

export interface CreaterepoOptions {
  /** Kills createrepo_c; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Also write the sqlite `*_db` files (off by default: dnf never reads them). */
  database?: boolean;
  compression?: CreaterepoCompression;
  /** repomd `<revision>`; createrepo_c defaults to the current time. */
  revision?: string;
  /** Threads reading RPM headers. */
  workers?: number;
  /** Only these RPMs (paths relative to the repository root). */
  pkglist?: readonly string[];
  /** Reuse metadata of unchanged RPMs from the existing repodata. */
  update?: boolean;
  /** `location xml:base` of every package (`--baseurl`). */
  baseurl?: string;
  /** Checksum of package files and repodata (createrepo_c default sha256). */
  checksum?: "sha256" | "sha1" | "sha512";
  bin?: string;
}

export class CreaterepoError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    /** What it wrote to stderr, at most `MAX_CAPTURED_CHARS` of it (start and end). */
    readonly stderr: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "CreaterepoError";
  }
}

function buildArgs(
  dir: string,
  opts: CreaterepoOptions,
  pkglistFile: string | undefined,
): string[] {
  const args = ["-q"];
  if (!opts.database) args.push("--no-database");
  if (opts.compression) {
    const type = opts.compression === "zst" ? "zstd" : opts.compression;
    args.push(`--general-compress-type=${type}`);
  }
  if (opts.revision !== undefined) args.push(`--revision=${opts.revision}`);
  if (opts.workers !== undefined) args.push(`--workers=${opts.workers}`);
  if (opts.update) args.push("--update");
  if (opts.checksum) args.push(`--checksum=${opts.checksum}`);
  if (opts.baseurl !== undefined) args.push(`--baseurl=${opts.baseurl}`);
  if (pkglistFile) args.push(`--pkglist=${pkglistFile}`);
  args.push(dir);
  return args;
}

function run(
  bin: string,
  args: string[],
  dir: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ["ignore", "ignore", "pipe"],
      // Its output is discarded with the staging tree: no need to let it tidy up.
      ...(signal ? { signal, killSignal: "SIGKILL" as const } : {}),
    });
    const captured = new CappedText();
    child.stderr.setEncoding("utf8").on("data", (d: string) => captured.append(d));
    let failure: Error | undefined;
    // Aborted: reject once the child is gone, not while it may still write.
    child.once("error", (err) => {
      if (child.pid === undefined) reject(err);
      else failure = err;
    });
    child.once("close", (code, sig) => {
      if (failure) reject(failure);
      else if (code === 0)
        repodataProblem(dir).then((problem) => {
          if (problem === undefined) return resolve();
          const cause = isNearlyFull(dir) ? noSpaceError(dir) : undefined;
          reject(
            new CreaterepoError(
              `${bin} exited with 0 but left ${problem}`,
              0,
              captured.toString(),
              cause,
            ),
          );
        }, reject);
      else {
        const how = code === null ? `killed by ${sig}` : `exited with ${code}`;
        const stderr = captured.toString();
        // On a full disk it says "gzclose(): file operation error" and no more.
        const cause = code !== null && isNearlyFull(dir) ? noSpaceError(dir) : undefined;
        reject(new CreaterepoError(`${bin} ${how}: ${stderr.trim()}`, code, stderr, cause));
      }
    });
  });
}

/**
 * What is wrong with the repodata createrepo_c says it wrote, or `undefined`.
 * On a full disk it can exit 0 with an empty repomd.xml (test/worker/
 * full-disk-stages.test.ts found a compose published `done` that way).
 */
async function repodataProblem(dir: string): Promise<string | undefined> {
  let data: ReturnType<typeof parseRepomd>["data"];
  try {
    data = parseRepomd(await readFile(join(dir, "repodata", "repomd.xml"), "utf8")).data;
  } catch (err) {
    return `an unreadable repodata/repomd.xml (${(err as Error).message})`;
  }
  if (!data.some((d) => d.type === "primary")) return "a repodata/repomd.xml without primary";
  for (const d of data) {
    try {
      await stat(join(dir, d.location));
    } catch {
      return `no ${d.location}, which repodata/repomd.xml names`;
    }
  }
  return undefined;
}

/**
 * Runs createrepo_c on `dir`, which gets a fresh `dir/repodata` (replacing an
 * existing one). Rejects with a CreaterepoError carrying stderr on failure.
 */
export async function runCreaterepo(dir: string, opts: CreaterepoOptions = {}): Promise<void> {
  const bin = opts.bin ?? "createrepo_c";
  if (!opts.pkglist) return run(bin, buildArgs(dir, opts, undefined), dir, opts.signal);
  const tmp = await mkdtemp(join(tmpdir(), "odcs-createrepo-"));
  try {
    const list = join(tmp, "pkglist");
    await writeFile(list, opts.pkglist.map((p) => `${p}\n`).join(""));
    await run(bin, buildArgs(dir, opts, list), dir, opts.signal);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
