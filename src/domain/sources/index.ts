import type { SourceTypeName } from "../states.ts";
import { validateKojiRequest } from "./koji.ts";
import { validateModuleRequest } from "./module.ts";
import { validatePulpRequest } from "./pulp.ts";
import { validatePungiComposeRequest } from "./pungi-compose.ts";
import { parseRepoLocation, validateRepoRequest } from "./repo.ts";
import type { SourceRequest, SourceRequestSettings } from "./types.ts";
import { validateUploadRequest } from "./upload.ts";

/**
 * Per-type request checks, pure (the API calls them; no Node): the one
 * registry of the source types this server generates. A type without an
 * entry is refused at POST ("not supported by this server yet"); the
 * worker's dispatch (`sources/index.ts`) must know every type listed here.
 */
const VALIDATORS: Partial<
  Record<SourceTypeName, (req: SourceRequest, s: SourceRequestSettings) => void>
> = {
  tag: validateKojiRequest,
  build: validateKojiRequest,
  repo: validateRepoRequest,
  module: validateModuleRequest,
  pulp: validatePulpRequest,
  pungi_compose: validatePungiComposeRequest,
  upload: validateUploadRequest,
};

export const SUPPORTED_SOURCE_TYPES = Object.keys(VALIDATORS) as SourceTypeName[];

export function isSupportedSourceType(type: SourceTypeName): boolean {
  return Object.hasOwn(VALIDATORS, type);
}

/**
 * The checks of the request's source type, and of its lookaside repos
 * (yum repositories whatever the type); throws `InvalidRequestError`.
 */
export function validateSourceRequest(req: SourceRequest, s: SourceRequestSettings): void {
  const validate = VALIDATORS[req.sourceTypeName];
  if (!validate)
    throw new Error(`source type ${req.sourceTypeName} passed the schema without a validator`);
  validate(req, s);
  for (const item of req.lookasideRepoList.flatMap((r) => r.split(" "))) parseRepoLocation(item, s);
}
