import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { joinUrl } from "../../domain/json-view.ts";
import type { SelectedPackage } from "../../rpm/select.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import type { OpenedRepo } from "../../sources/types.ts";
import { archRepoRel, composeName, packageRel, VARIANT } from "../paths.ts";
import { runCreaterepo } from "../tools/createrepo.ts";
import { writeRepodata } from "../tools/write-repodata.ts";
import type { GenerateContext, GenerateResult } from "./generate.ts";
import { mapLimit } from "./map-limit.ts";
import { type PlacedRpm, pungiComposeId, repoFileText, writeComposeMetadata } from "./metadata.ts";

/** Files linked or copied at once; hardlinks are cheap, downloads are bounded by the network. */
const MATERIALISE_CONCURRENCY = 16;
/**
 * Local sources link synchronously (sources/repo.ts); between batches the
 * event loop gets a turn, so the API of a single-host process, the lease
 * heartbeat and the repodata being written meanwhile wait at most one batch
 * (~2 ms on a local file system).
 */
const MATERIALISE_BATCH = 128;

interface ArchPlan {
  arch: string;
  repoDir: string;
  items: { repo: number; pkg: PackageRecord; rel: string }[];
}

/**
 * Where each selected package goes: one file per name in an arch (the first
 * wins), under Pungi's hashed `Packages/<c>/`. Paths are joined by
 * concatenation: path.join per package and use was ~10 ms of a 1 600-package
 * compose.
 */
function planArch(dir: string, arch: string, packages: readonly SelectedPackage[]): ArchPlan {
  const repoDir = join(dir, archRepoRel(arch));
  const seen = new Set<string>();
  const items: ArchPlan["items"] = [];
  for (const { repo, pkg } of packages) {
    const file = basename(pkg.location);
    if (seen.has(file)) continue;
    seen.add(file);
    items.push({ repo, pkg, rel: packageRel(file) });
  }
  return { arch, repoDir, items };
}

async function placeArch(
  plan: ArchPlan,
  repos: readonly OpenedRepo[],
  ctx: GenerateContext,
): Promise<void> {
  const started = performance.now();
  let linked = 0;
  for (let i = 0; i < plan.items.length; i += MATERIALISE_BATCH) {
    const batch = plan.items.slice(i, i + MATERIALISE_BATCH);
    const how = await mapLimit(batch, MATERIALISE_CONCURRENCY, ({ repo, pkg, rel }) => {
      const source = repos[repo];
      if (!source) throw new Error(`selection names unknown repo ${repo}`);
      return source.materialise(pkg, `${plan.repoDir}/${rel}`, ctx.signal);
    });
    linked += how.filter((h) => h === "link").length;
    await yieldToLoop();
  }
  ctx.log.line(
    `${plan.arch}: placed ${plan.items.length} RPMs (${linked} hardlinked) in ${(performance.now() - started).toFixed(1)} ms`,
  );
}

async function writeArchRepodata(plan: ArchPlan, ctx: GenerateContext): Promise<void> {
  const started = performance.now();
  if (ctx.config.ODCS_REPODATA_WRITER === "createrepo_c") {
    // createrepo_c reads the RPMs, so they must all be in place first.
    await runCreaterepo(plan.repoDir, { signal: ctx.signal });
  } else {
    await writeRepodata(
      plan.repoDir,
      plan.items.map(({ pkg, rel }) => ({ pkg, location: rel })),
      {
        compression: ctx.config.ODCS_REPODATA_COMPRESSION,
        now: Math.floor(ctx.now().getTime() / 1000),
        signal: ctx.signal,
      },
    );
  }
  ctx.log.line(`${plan.arch}: wrote repodata in ${(performance.now() - started).toFixed(1)} ms`);
}

/**
 * Waits for every task, then rethrows the first failure: nothing may still
 * be writing into the staging tree when the caller cleans it up.
 */
async function allSettled(tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Lay out a `repo` compose in `dir` (the staging top dir) from the selection
 * of each arch: the RPMs under `compose/Temporary/<arch>/os/Packages`, their
 * repodata, the .repo file and productmd metadata. Nothing written depends
 * on how an RPM was placed, so the repodata and metadata are written while
 * the files are being linked: the links are system calls on the main thread,
 * the compression runs on the thread pool. Touches nothing outside `dir`.
 */
export async function writeComposeTree(
  compose: ComposeRow,
  dir: string,
  repos: readonly OpenedRepo[],
  selections: readonly { arch: string; packages: readonly SelectedPackage[] }[],
  ctx: GenerateContext,
): Promise<Omit<GenerateResult, "kojiEvent">> {
  const name = composeName(compose.id);
  const plans = selections.map((s) => planArch(dir, s.arch, s.packages));
  const placed: PlacedRpm[] = [];
  const rows: Omit<NewComposeRpmRow, "composeId">[] = [];
  for (const { arch, items } of plans) {
    const treeRel = `${VARIANT}/${arch}/os`;
    for (const { repo, pkg, rel } of items) {
      const sigkey = pkg.sigkey ?? null;
      placed.push({ treeArch: arch, pkg, path: `${treeRel}/${rel}`, sigkey });
      rows.push({
        treeArch: arch,
        name: pkg.name,
        epoch: pkg.epoch || "0",
        version: pkg.version,
        release: pkg.release,
        arch: pkg.arch,
        sigkey,
        checksumType: pkg.checksumType,
        checksum: pkg.pkgid,
        sourceRepo: repos[repo]?.origin ?? "",
        location: pkg.location,
        path: rel,
      });
    }
  }

  // A few dozen dirs in our own staging tree: one thread hand-off each would cost more.
  mkdirSync(join(dir, "compose", "metadata"), { recursive: true });
  for (const { repoDir, items } of plans) {
    mkdirSync(repoDir, { recursive: true });
    const dirs = new Set(
      items.map(({ rel }) => `${repoDir}/${rel.slice(0, rel.lastIndexOf("/"))}`),
    );
    for (const d of dirs) mkdirSync(d, { recursive: true });
  }

  const resultRepo =
    compose.targetDir === "default"
      ? `${joinUrl(ctx.config.ODCS_TARGET_DIR_URL, name)}/compose/${VARIANT}`
      : "";
  const pungiId = pungiComposeId(compose.id, compose.composeType, ctx.now());
  const placing = (async () => {
    for (const plan of plans) await placeArch(plan, repos, ctx);
  })();
  const native = ctx.config.ODCS_REPODATA_WRITER === "native";
  await allSettled([
    placing,
    ...plans.map(async (plan) => {
      if (!native) await placing;
      await writeArchRepodata(plan, ctx);
    }),
    // Independent files in the staging tree, published together by one rename.
    writeFile(join(dir, "compose", VARIANT, `${name}.repo`), repoFileText(name, resultRepo)),
    writeComposeMetadata(
      dir,
      {
        id: pungiId,
        date: pungiId.split("-").at(-1)?.slice(0, 8) ?? "",
        type: compose.composeType ?? "test",
        respin: 0,
      },
      plans.map((p) => p.arch),
      placed,
    ),
    writeFile(join(dir, "COMPOSE_ID"), `${pungiId}\n`),
    writeFile(join(dir, "STATUS"), "FINISHED\n"),
  ]);
  return { rpms: rows, pungiComposeId: pungiId };
}
