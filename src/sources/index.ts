import type { SourceTypeName } from "../domain/states.ts";
import { ComposeError } from "./errors.ts";
import { kojiBuildSource, kojiTagSource } from "./koji/index.ts";
import { moduleSource } from "./module/index.ts";
import { pulpSource } from "./pulp/index.ts";
import { pungiComposeSource } from "./pungi-compose/index.ts";
import { repoSource } from "./repo.ts";
import type { RepoFileSource, Source } from "./types.ts";
import { uploadSource } from "./upload.ts";

/**
 * The one dispatch from a source type to its implementation. A type the API
 * accepts (`domain/sources/index.ts`) must be here too; a new type is one
 * module in this directory and one line below.
 */
const SOURCES: Partial<Record<SourceTypeName, Source | RepoFileSource>> = {
  tag: kojiTagSource,
  build: kojiBuildSource,
  repo: repoSource,
  module: moduleSource,
  pulp: pulpSource,
  pungi_compose: pungiComposeSource,
  upload: uploadSource as Source,
};

/** The implementation of `type`; a type this worker cannot generate fails the compose (no retry). */
export function sourceFor(type: SourceTypeName): Source | RepoFileSource {
  const source = SOURCES[type];
  if (!source) throw new ComposeError(`this worker cannot generate "${type}" composes`);
  return source;
}
