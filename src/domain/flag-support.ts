import { InvalidRequestError } from "./errors.ts";
import type { FlagName, SourceTypeName } from "./states.ts";

/**
 * The source types each ODCS flag (§2.3) acts on in this server. A flag
 * accepted for a source type it does nothing for would be a silent no-op,
 * so it is refused instead. `no_flags` is ODCS's "no flag" and always fine.
 * The Koji, Pulp and module flags join their source types as those land.
 */
const FLAG_SUPPORT: Readonly<Record<FlagName, readonly SourceTypeName[]>> = {
  no_flags: ["tag", "build", "repo", "module", "pulp", "pungi_compose", "upload"],
  no_deps: ["tag", "build", "repo", "module", "upload"],
  no_inheritance: ["tag"],
  include_unpublished_pulp_repos: ["pulp"],
  check_deps: ["tag", "build", "repo", "upload"],
  include_done_modules: ["module"],
  ignore_absent_pulp_repos: ["pulp"],
  no_reuse: ["tag", "build", "repo", "module", "pungi_compose", "upload"],
  use_only_compatible_arch: ["pulp"],
};

/** Throws `InvalidRequestError` for the first flag that does not act on `sourceType`. */
export function checkFlagsSupported(sourceType: SourceTypeName, flags: readonly FlagName[]): void {
  for (const flag of flags) {
    if (!FLAG_SUPPORT[flag].includes(sourceType))
      throw new InvalidRequestError(
        `Flag "${flag}" is not supported yet for source type "${sourceType}"`,
      );
  }
}

/**
 * Throws `InvalidRequestError` when `results` asks for an ISO of a compose
 * that has no packages of its own: a `pulp` compose only writes a .repo
 * file pointing at Pulp's repositories.
 */
export function checkResultsSupported(
  sourceType: SourceTypeName,
  results: readonly string[],
): void {
  if (sourceType === "pulp" && results.includes("iso"))
    throw new InvalidRequestError(
      'The "iso" result is not available for "pulp" composes: they only write a .repo file, with no packages of their own',
    );
}
