import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../../config.ts";
import type { ComposeRow } from "../../db/schema.ts";
import { joinUrl } from "../../domain/json-view.ts";
import type { Json, RepoFileSource, SourceContext } from "../../sources/types.ts";
import { composeName, VARIANT } from "../paths.ts";
import type { GenerateResult } from "./generate.ts";

/**
 * A compose whose result is its `.repo` file only (ODCS's pulp composes):
 * the source writes it, and what it points at, under `compose/Temporary`
 * of `dir`; no packages, repodata, productmd metadata or Pungi compose id.
 */
export async function writeRepoFileCompose(
  compose: ComposeRow,
  dir: string,
  source: RepoFileSource,
  pinned: Json,
  sctx: SourceContext,
  config: Config,
): Promise<GenerateResult> {
  const name = composeName(compose.id);
  const resultRepoDir = join(dir, "compose", VARIANT);
  await mkdir(resultRepoDir, { recursive: true });
  const resultRepoUrl =
    compose.targetDir === "default"
      ? `${joinUrl(config.ODCS_TARGET_DIR_URL, name)}/compose/${VARIANT}`
      : "";
  const rewrite = await source.writeResult(
    pinned,
    { resultRepoDir, resultRepoUrl, repoFilePath: join(resultRepoDir, `${name}.repo`) },
    sctx,
  );
  return { kojiEvent: null, pungiComposeId: null, rewrite };
}
