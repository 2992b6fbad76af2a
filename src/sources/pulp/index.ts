import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Config } from "../../config.ts";
import type { ComposeRow } from "../../db/schema.ts";
import { FLAGS } from "../../domain/states.ts";
import { ComposeError } from "../errors.ts";
import type { ComposeRewrite, RepoFileSource, SourceContext } from "../types.ts";
import type { PulpConnection } from "./client.ts";
import { type PulpLookup, pulp2Lookup, pulp3Lookup } from "./lookup.ts";
import { mergeRepos } from "./mergerepo.ts";
import {
  directEntry,
  entryUrl,
  type PulpEntry,
  type PulpRepoInfo,
  pulpRepoFileText,
  reduceContentSet,
} from "./reduce.ts";

const execFileP = promisify(execFile);

/** A pulp compose's inputs as Pulp answered them (stored as the compose's pins). */
export type PulpPinned = {
  entries: PulpEntry[];
  /** The found sources, when `ignore_absent_pulp_repos` dropped some (the compose's new `source`). */
  source: string | null;
  /** `use_only_compatible_arch`: `$basearch` URLs with `skip_if_unavailable=1`. */
  onlyCompatibleArch: boolean;
};

/** Python's repr of a list of strings, as ODCS puts it into its message. */
const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

function lookupFor(config: Config, signal: AbortSignal): PulpLookup {
  if (!config.ODCS_PULP_URL)
    throw new ComposeError("no Pulp server is configured (ODCS_PULP_URL) on this worker");
  const conn: PulpConnection = {
    url: config.ODCS_PULP_URL,
    username: config.ODCS_PULP_USERNAME,
    password: config.ODCS_PULP_PASSWORD,
    timeoutMs: config.ODCS_PULP_TIMEOUT_MS,
    signal,
  };
  return config.ODCS_PULP_API === "3" ? pulp3Lookup(conn) : pulp2Lookup(conn);
}

/**
 * ODCS's `generate_pulp_compose` up to the .repo text: content sets by one
 * search, the other items as repo ids, the absent ones failing the compose
 * (or, with `ignore_absent_pulp_repos`, dropped from its `source`), each
 * content set's repos reduced to one entry.
 */
async function resolvePulp(compose: ComposeRow, ctx: SourceContext): Promise<PulpPinned> {
  const lookup = lookupFor(ctx.config, ctx.signal);
  const sources = compose.source.split(" ");
  const unpublished = (compose.flags & FLAGS.include_unpublished_pulp_repos) !== 0;
  const bySet = await lookup.byContentSets(sources, unpublished);
  const foundIds = new Set([...bySet.values()].flat().map((r) => r.id));
  const remaining = sources.filter((s) => !bySet.has(s) && !foundIds.has(s));
  const direct = new Map<string, PulpRepoInfo>();
  for (const id of remaining) {
    const repo = await lookup.byId(id, unpublished);
    if (repo) direct.set(id, repo);
  }
  const absent = remaining.filter((s) => !direct.has(s));
  let source: string | null = null;
  if (absent.length > 0) {
    const found = sources.filter((s) => !absent.includes(s)).sort();
    const err = `Failed to find all the source(s) ${pyList(sources)} in Pulp, found only ${pyList(found)}`;
    if ((compose.flags & FLAGS.ignore_absent_pulp_repos) === 0) throw new ComposeError(err);
    ctx.log(`pulp: ${err}; ignore_absent_pulp_repos: going on without ${absent.join(" ")}`);
    source = found.join(" ");
  }
  const entries: PulpEntry[] = [];
  for (const [cs, repos] of bySet) {
    ctx.log(`pulp: content set ${cs}: ${repos.map((r) => `${r.id} (${r.url})`).join(", ")}`);
    entries.push(reduceContentSet(cs, repos));
  }
  for (const [id, repo] of direct) {
    ctx.log(`pulp: repo id ${id}: ${repo.url}`);
    entries.push(directEntry(repo));
  }
  const onlyCompatibleArch = (compose.flags & FLAGS.use_only_compatible_arch) !== 0;
  return { entries, source, onlyCompatibleArch };
}

/** ODCS's `allowed_arches`; "anything" (`*`) means the default arches. */
function emptyRepoArches(config: Config): string[] {
  const allowed = config.ODCS_ALLOWED_ARCHES.filter((a) => a !== "");
  return allowed.length > 0 ? allowed : [...config.ODCS_ARCHES];
}

async function createEmptyRepo(dir: string, signal: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  try {
    await execFileP("createrepo_c", ["--quiet", dir], { signal, killSignal: "SIGKILL" });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ComposeError(
      `createrepo_c of the empty repository ${dir} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

const sortedUnion = (lists: readonly (readonly string[])[]) =>
  [...new Set(lists.flat())].filter((x) => x !== "").sort();

/**
 * Type 4 (`pulp`): a .repo file pointing at repositories Pulp publishes;
 * nothing is copied. Never reused (as ODCS). A renewed compose resolves its
 * sources afresh, as ODCS's regeneration does: it points at what Pulp
 * publishes now.
 */
export const pulpSource: RepoFileSource<PulpPinned> = {
  resolve: resolvePulp,
  async writeResult(pinned, target, ctx): Promise<ComposeRewrite> {
    const { entries } = pinned;
    for (const e of entries) {
      if (e.kind !== "merge") continue;
      for (const [arch, urls] of Object.entries(e.byArch)) {
        ctx.log(`pulp: merging ${urls.join(" ")} into ${e.key}/${arch}`);
        await mergeRepos(urls, join(target.resultRepoDir, e.key, arch), {
          cacheDir: ctx.config.ODCS_CACHE_DIR,
          signal: ctx.signal,
          timeoutMs: ctx.config.ODCS_DOWNLOAD_TIMEOUT_MS,
          log: ctx.log,
        });
      }
    }
    let arches = sortedUnion(entries.map((e) => e.arches));
    if (entries.length === 0) {
      arches = emptyRepoArches(ctx.config);
      ctx.log(`pulp: nothing found; empty repositories for ${arches.join(" ")}`);
      for (const arch of arches)
        await createEmptyRepo(join(target.resultRepoDir, arch, "os"), ctx.signal);
    }
    for (const e of entries) ctx.log(`pulp: [${e.key}] ${entryUrl(e, target.resultRepoUrl)}`);
    await writeFile(
      target.repoFilePath,
      pulpRepoFileText(entries, pinned.onlyCompatibleArch, target.resultRepoUrl),
    );
    return {
      arches: arches.join(" "),
      sigkeys: sortedUnion(entries.map((e) => e.sigkeys)).join(" "),
      ...(pinned.source === null ? {} : { source: pinned.source }),
    };
  },
};
