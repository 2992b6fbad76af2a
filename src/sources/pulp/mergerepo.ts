import { execFile } from "node:child_process";
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parseRepomd } from "../../rpm/repodata-parse.ts";
import { ComposeError } from "../errors.ts";
import { fetchOk } from "../fetch.ts";

const execFileP = promisify(execFile);

export interface MergeOptions {
  /** `ODCS_CACHE_DIR`: downloaded repodata is kept under `pulp-repodata/`. */
  cacheDir: string;
  signal: AbortSignal;
  timeoutMs: number;
  log: (line: string) => void;
}

/** `repodata/<file>` and nothing else: a location that could climb out is refused. */
function safeLocation(url: string, href: string): string {
  if (!/^repodata\/[^/\\]+$/.test(href) || href.includes(".."))
    throw new ComposeError(`repodata of ${url} lists an unexpected location "${href}"`);
  return href;
}

async function readOr(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Write `bytes` at `path` by a rename, so readers of the cache never see half a file. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function download(url: string, opts: MergeOptions): Promise<Uint8Array> {
  const res = await fetchOk(url, opts.signal, opts.timeoutMs);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The repodata of the repo at `url` into `dir` (`repodata/…`), as ODCS's
 * MergeRepo downloads it: repomd.xml and every file it lists except the
 * sqlite `*_db` ones. A copy is kept in the cache, keyed by the URL; while
 * the repo's repomd.xml is byte-identical to the cached one, the cached
 * files are linked instead of downloaded again.
 */
async function fetchRepodata(url: string, dir: string, cached: string, opts: MergeOptions) {
  const repomd = await download(`${url}/repodata/repomd.xml`, opts);
  const wanted = parseRepomd(new TextDecoder().decode(repomd))
    .data.filter((d) => !d.type.endsWith("_db"))
    .map((d) => safeLocation(url, d.location));
  await mkdir(join(dir, "repodata"), { recursive: true });
  await writeFile(join(dir, "repodata", "repomd.xml"), repomd);
  const last = await readOr(join(cached, "repodata", "repomd.xml"));
  if (last && Buffer.compare(last, repomd) === 0) {
    try {
      await Promise.all(wanted.map((href) => link(join(cached, href), join(dir, href))));
      opts.log(`pulp: reusing the cached repodata of ${url}`);
      return;
    } catch {
      // Part of the cache was deleted (anything under ODCS_CACHE_DIR may be): download.
    }
  }
  opts.log(`pulp: downloading the repodata of ${url} (${wanted.length} files)`);
  await Promise.all(
    wanted.map(async (href) => {
      const bytes = await download(`${url}/${href}`, opts);
      await writeFile(join(dir, href), bytes);
      await writeAtomic(join(cached, href), bytes);
    }),
  );
  await writeAtomic(join(cached, "repodata", "repomd.xml"), repomd);
}

/**
 * ODCS's merge of several repos of one arch (`mergerepo.py`): their
 * repodata under one work root whose paths mirror the URLs, then
 * `mergerepo_c --method nvr` (the highest NVR of a name and arch wins) into
 * `outDir`, with the work root rewritten to the server's
 * `scheme://host[:port]/`, so every package location still points at Pulp.
 * ODCS drops the port from that prefix and leaves a "//" after the host;
 * here the port is kept and the slash single, so the locations are the
 * repos' own URLs.
 */
export async function mergeRepos(
  urls: readonly string[],
  outDir: string,
  opts: MergeOptions,
): Promise<void> {
  const sorted = [...new Set(urls)].sort();
  const first = new URL(sorted[0] ?? "");
  const prefix = `${first.protocol}//${first.host}/`;
  const work = join(opts.cacheDir, "pulp-merge");
  await mkdir(work, { recursive: true });
  const root = await mkdtemp(join(work, "run-"));
  try {
    const dirs = await Promise.all(
      sorted.map(async (url) => {
        if (!url.startsWith(prefix))
          throw new ComposeError(`cannot merge ${url} with repos on ${prefix}: another server`);
        const path = new URL(url).pathname.replace(/^\/+/, "");
        const dir = join(root, path);
        const cached = join(opts.cacheDir, "pulp-repodata", first.host, path);
        await fetchRepodata(url, dir, cached, opts);
        return dir;
      }),
    );
    await mkdir(outDir, { recursive: true });
    const args = [
      "--method",
      "nvr",
      "-o",
      outDir,
      // With the trailing "/" (ODCS passes none), locations get no "//" after the host.
      "--repo-prefix-search",
      `${root}/`,
      "--repo-prefix-replace",
      prefix,
      ...dirs.flatMap((d) => ["-r", d]),
    ];
    try {
      await execFileP("mergerepo_c", args, {
        signal: opts.signal,
        killSignal: "SIGKILL",
        maxBuffer: 16 << 20,
      });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const e = err as { stderr?: string; message: string };
      throw new ComposeError(
        `mergerepo_c of ${sorted.join(", ")} failed: ${(e.stderr || e.message).trim().slice(0, 500)}`,
        { cause: err },
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
