import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Config } from "../../config.ts";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { joinUrl } from "../../domain/json-view.ts";
import { parseRepoLocation } from "../../domain/repo-source.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { openRepo } from "../../sources/repo.ts";
import type { RepodataCache } from "../../sources/repodata-cache.ts";
import type { OpenedRepo } from "../../sources/types.ts";
import type { ComposeLog } from "../compose-log.ts";
import { archRepoRel, composeName, packageRel, VARIANT } from "../paths.ts";
import { runCreaterepo } from "../tools/createrepo.ts";
import { writeRepodata } from "../tools/write-repodata.ts";
import { mapLimit } from "./map-limit.ts";
import { type PlacedRpm, pungiComposeId, repoFileText, writeComposeMetadata } from "./metadata.ts";
import { list, selectArches } from "./select-arches.ts";

export interface GenerateContext {
  config: Config;
  cache: RepodataCache;
  log: ComposeLog;
  signal: AbortSignal;
  now: () => Date;
  /** The package set to reproduce (regeneration of a removed compose); empty = solve afresh. */
  pinned: readonly {
    treeArch: string;
    name: string;
    epoch: string;
    version: string;
    release: string;
    arch: string;
  }[];
}

export interface GenerateResult {
  rpms: Omit<NewComposeRpmRow, "composeId">[];
  kojiEvent: number | null;
  pungiComposeId: string;
}

/** Files linked or copied at once; hardlinks are cheap, downloads are bounded by the network. */
const MATERIALISE_CONCURRENCY = 16;
/**
 * Local sources link synchronously (sources/repo.ts); between batches the
 * event loop gets a turn, so the API of a single-host process and the lease
 * heartbeat wait at most one batch (~2 ms on a local file system).
 */
const MATERIALISE_BATCH = 128;

async function openAll(items: string[], ctx: GenerateContext, what: string): Promise<OpenedRepo[]> {
  return Promise.all(
    items.map(async (item) => {
      ctx.log.line(`loading ${what} ${item}`);
      const repo = await openRepo(parseRepoLocation(item, ctx.config), {
        policy: ctx.config,
        cache: ctx.cache,
        signal: ctx.signal,
        downloadTimeoutMs: ctx.config.ODCS_DOWNLOAD_TIMEOUT_MS,
      });
      ctx.log.line(
        `${item}: ${repo.repodata.packages.length} packages, revision ${repo.repodata.revision || "(none)"}`,
      );
      return repo;
    }),
  );
}

/**
 * Build the whole compose of a `repo` source inside `dir` (the staging top
 * dir): select and depsolve per arch, place the RPMs, write repodata, the
 * .repo file and productmd metadata. Touches nothing outside `dir`.
 */
export async function generateRepoCompose(
  compose: ComposeRow,
  dir: string,
  ctx: GenerateContext,
): Promise<GenerateResult> {
  const repos = await openAll(list(compose.source), ctx, "source");
  const lookaside = await openAll(list(compose.lookasideRepos), ctx, "lookaside repo");
  const arches = [...new Set(list(compose.arches))];
  const selections = await selectArches(compose, repos, lookaside, arches, ctx);

  const name = composeName(compose.id);
  const placed: PlacedRpm[] = [];
  const rows: Omit<NewComposeRpmRow, "composeId">[] = [];
  for (const { arch, result } of selections) {
    const repoRel = archRepoRel(arch);
    const repoDir = join(dir, repoRel);
    // Paths are derived once per package and joined by concatenation: path.join
    // per package and use was ~10 ms of a 1 600-package compose.
    const seen = new Set<string>();
    const items: { repo: number; pkg: PackageRecord; rel: string }[] = [];
    for (const { repo, pkg } of result.packages) {
      const file = basename(pkg.location);
      if (seen.has(file)) continue;
      seen.add(file);
      items.push({ repo, pkg, rel: packageRel(file) });
    }
    const dirs = new Set(
      items.map(({ rel }) => `${repoDir}/${rel.slice(0, rel.lastIndexOf("/"))}`),
    );
    // A few dozen dirs in our own staging tree: one thread hand-off each would cost more.
    mkdirSync(repoDir, { recursive: true });
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const started = performance.now();
    const how: Awaited<ReturnType<OpenedRepo["materialise"]>>[] = [];
    for (let i = 0; i < items.length; i += MATERIALISE_BATCH) {
      const batch = items.slice(i, i + MATERIALISE_BATCH);
      const done = await mapLimit(batch, MATERIALISE_CONCURRENCY, ({ repo, pkg, rel }) => {
        const source = repos[repo];
        if (!source) throw new Error(`selection names unknown repo ${repo}`);
        return source.materialise(pkg, `${repoDir}/${rel}`, ctx.signal);
      });
      how.push(...done);
      await yieldToLoop();
    }
    ctx.log.line(
      `${arch}: placed ${items.length} RPMs (${how.filter((h) => h === "link").length} hardlinked) in ${(performance.now() - started).toFixed(1)} ms`,
    );
    const treeRel = join(VARIANT, arch, "os");
    const entries = items.map(({ repo, pkg, rel }) => {
      placed.push({
        treeArch: arch,
        pkg,
        path: `${treeRel}/${rel}`,
        sigkey: pkg.sigkey ?? null,
      });
      rows.push({
        treeArch: arch,
        name: pkg.name,
        epoch: pkg.epoch || "0",
        version: pkg.version,
        release: pkg.release,
        arch: pkg.arch,
        sigkey: pkg.sigkey ?? null,
        checksumType: pkg.checksumType,
        checksum: pkg.pkgid,
        sourceRepo: repos[repo]?.origin ?? "",
        location: pkg.location,
        path: rel,
      });
      return { pkg, location: rel };
    });
    const mdStarted = performance.now();
    const unixNow = Math.floor(ctx.now().getTime() / 1000);
    if (ctx.config.ODCS_REPODATA_WRITER === "createrepo_c") {
      await runCreaterepo(repoDir, { signal: ctx.signal });
    } else {
      await writeRepodata(repoDir, entries, {
        compression: ctx.config.ODCS_REPODATA_COMPRESSION,
        now: unixNow,
        signal: ctx.signal,
      });
    }
    ctx.log.line(`${arch}: wrote repodata in ${(performance.now() - mdStarted).toFixed(1)} ms`);
  }

  const resultRepo =
    compose.targetDir === "default"
      ? `${joinUrl(ctx.config.ODCS_TARGET_DIR_URL, name)}/compose/${VARIANT}`
      : "";
  mkdirSync(join(dir, "compose", "metadata"), { recursive: true });
  const pungiId = pungiComposeId(compose.id, compose.composeType, ctx.now());
  // Independent files in the staging tree, published together by one rename.
  await Promise.all([
    writeFile(join(dir, "compose", VARIANT, `${name}.repo`), repoFileText(name, resultRepo)),
    writeComposeMetadata(
      dir,
      {
        id: pungiId,
        date: pungiId.split("-").at(-1)?.slice(0, 8) ?? "",
        type: compose.composeType ?? "test",
        respin: 0,
      },
      arches,
      placed,
    ),
    writeFile(join(dir, "COMPOSE_ID"), `${pungiId}\n`),
    writeFile(join(dir, "STATUS"), "FINISHED\n"),
  ]);
  const revision = repos[0]?.repodata.revision ?? "";
  return {
    rpms: rows,
    kojiEvent: /^\d{1,15}$/.test(revision) ? Number(revision) : null,
    pungiComposeId: pungiId,
  };
}
