import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { crashPoint } from "../../crash-points.ts";
import type { ComposeRow, NewComposeRpmRow } from "../../db/schema.ts";
import { joinUrl } from "../../domain/json-view.ts";
import type { SelectedPackage } from "../../rpm/select.ts";
import type { PackageRecord } from "../../rpm/types.ts";
import { sharedFilePlacer } from "../../sources/place/file-placer.ts";
import type { ComposeModules, OpenedRepo } from "../../sources/types.ts";
import { archRepoRel, composeName, packageRel, VARIANT } from "../paths.ts";
import { runCreaterepo } from "../tools/createrepo.ts";
import { writeRepodata } from "../tools/write-repodata.ts";
import type { GenerateContext, GenerateResult } from "./generate.ts";
import { type PlacedRpm, pungiComposeId, repoFileText, writeComposeMetadata } from "./metadata.ts";
import { addModulesRepodata, writeModulesJson } from "./modules.ts";

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
    const rel = packageRel(file);
    items.push({ repo, pkg, rel });
  }
  return { arch, repoDir, items };
}

/**
 * Ask the sources for every file of the arch at once: a local source links
 * them in one batch on its placement thread, a remote one bounds its own
 * downloads; each makes the Packages/<c>/ dirs it needs.
 */
async function placeArch(
  plan: ArchPlan,
  repos: readonly OpenedRepo[],
  ctx: GenerateContext,
): Promise<void> {
  const started = performance.now();
  const how = await allSettled(
    plan.items.map(async ({ repo, pkg, rel }) => {
      const source = repos[repo];
      if (!source) throw new Error(`selection names unknown repo ${repo}`);
      return source.materialise(pkg, `${plan.repoDir}/${rel}`, ctx.signal);
    }),
  );
  const linked = how.filter((h) => h === "link").length;
  ctx.log.line(
    `${plan.arch}: placed ${plan.items.length} RPMs (${linked} hardlinked) in ${(performance.now() - started).toFixed(1)} ms`,
  );
}

async function writeArchRepodata(
  plan: ArchPlan,
  ctx: GenerateContext,
  modules: ComposeModules | undefined,
): Promise<string | undefined> {
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
  return modules ? addModulesRepodata(plan.repoDir, plan.arch, modules, ctx) : undefined;
}

/**
 * Waits for every task, then rethrows the first failure: nothing may still
 * be writing into the staging tree when the caller cleans it up.
 */
async function allSettled<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * The directories every compose of `arches` has, whatever its packages: the
 * metadata dir and each arch's repodata and Packages dirs (their parents
 * with them). The handler has the placement thread make them while the
 * packages are being selected; writeComposeTree makes sure of them again.
 */
export function composeSkeleton(dir: string, arches: readonly string[]): string[] {
  return [
    join(dir, "compose", "metadata"),
    ...arches.flatMap((a) => {
      const repoDir = join(dir, archRepoRel(a));
      return [`${repoDir}/repodata`, `${repoDir}/Packages`];
    }),
  ];
}

/**
 * Lay out a `repo` compose in `dir` (the staging top dir) from the selection
 * of each arch: the RPMs under `compose/Temporary/<arch>/os/Packages`, their
 * repodata, the .repo file and productmd metadata. Nothing written depends
 * on how an RPM was placed, so the repodata and metadata are written while
 * the files are being linked: the links run on the placement thread, the
 * compression on the libuv pool. Touches nothing outside `dir`.
 */
export async function writeComposeTree(
  compose: ComposeRow,
  dir: string,
  repos: readonly OpenedRepo[],
  selections: readonly { arch: string; packages: readonly SelectedPackage[] }[],
  ctx: GenerateContext,
  /** Module composes: modules.yaml in each arch repo, modules.json in the metadata. */
  modules?: ComposeModules,
): Promise<Omit<GenerateResult, "kojiEvent">> {
  const name = composeName(compose.id);
  const plans = selections.map((s) => planArch(dir, s.arch, s.packages));
  // Creating a directory costs the kernel more than anything else here (up
  // to 0.6 ms each on the bench host, against ~20 µs a hardlink). The
  // skeleton the metadata goes into is being made by the placement thread
  // since the compose started (the handler asked; asking again costs a
  // lookup each); the Packages/<c>/ dirs are made by the sources, where a
  // local one's thread makes each just before linking into it.
  const skeleton = sharedFilePlacer().makeDirs(
    composeSkeleton(
      dir,
      plans.map((p) => p.arch),
    ),
  );
  // Awaited below; until then a failure must not count as unhandled.
  skeleton.catch(() => {});
  const placed: PlacedRpm[] = [];
  for (const { arch, items } of plans) {
    const treeRel = `${VARIANT}/${arch}/os`;
    for (const { pkg, rel } of items)
      placed.push({ treeArch: arch, pkg, path: `${treeRel}/${rel}`, sigkey: pkg.sigkey ?? null });
  }
  // Read when recorded: a record without its digest yet gets it while placed.
  const rows = (): Omit<NewComposeRpmRow, "composeId">[] =>
    plans.flatMap(({ arch, items }) =>
      items.map(({ repo, pkg, rel }) => ({
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
      })),
    );
  const resultRepo =
    compose.targetDir === "default"
      ? `${joinUrl(ctx.config.ODCS_TARGET_DIR_URL, name)}/compose/${VARIANT}`
      : "";
  const pungiId = pungiComposeId(compose.id, compose.composeType, ctx.now());
  const placing = (async () => {
    for (const plan of plans) await placeArch(plan, repos, ctx);
    crashPoint("generate:placed");
  })();
  // A record without its digest yet (Koji gives no sha256; the source learns it while
  // placing a file it reads for the first time) makes the repodata and the
  // package set's record wait for the placing.
  const digestsKnown = plans.every((p) => p.items.every((i) => i.pkg.pkgid !== ""));
  const native = ctx.config.ODCS_REPODATA_WRITER === "native" && digestsKnown;
  const info = {
    id: pungiId,
    date: pungiId.split("-").at(-1)?.slice(0, 8) ?? "",
    type: compose.composeType ?? "test",
    respin: 0,
  };
  const repodata = plans.map(async (plan) => {
    await (native ? skeleton : placing);
    return [plan.arch, await writeArchRepodata(plan, ctx, modules)] as const;
  });
  await allSettled<unknown>([
    skeleton,
    placing,
    ...repodata,
    modules
      ? (async () => {
          const paths = await allSettled(repodata);
          const byArch = Object.fromEntries(paths.map(([a, p]) => [a, p ?? ""]));
          await writeModulesJson(dir, info, modules, byArch);
        })()
      : Promise.resolve(),
    // Independent files in the staging tree, published together by one rename.
    (async () => {
      await skeleton;
      await Promise.all([
        writeFile(join(dir, "COMPOSE_ID"), `${pungiId}\n`),
        writeFile(join(dir, "STATUS"), "FINISHED\n"),
        writeFile(join(dir, "compose", VARIANT, `${name}.repo`), repoFileText(name, resultRepo)),
        writeComposeMetadata(
          dir,
          info,
          plans.map((p) => p.arch),
          placed,
        ),
      ]);
    })(),
    // Last: the database work runs while the thread makes the directories.
    (digestsKnown ? Promise.resolve() : placing).then(() => ctx.recordPackages?.(rows())),
  ]);
  return { pungiComposeId: pungiId };
}
