/**
 * The multilib test used by `selectPackages`: python-multilib semantics from
 * `multilib.ts` (runtime/devel/all/none, built-in white/blacklists, then the
 * configured name lists). Method names outside `MULTILIB_METHODS` are ignored.
 */

import type { MultilibLists, MultilibMethod } from "./multilib.ts";
import { isMultilibCandidate, MULTILIB_METHODS } from "./multilib.ts";
import type { PackageRecord } from "./types.ts";

const isMethod = (m: string): m is MultilibMethod =>
  (MULTILIB_METHODS as readonly string[]).includes(m);

export function acceptsMultilib(
  p: PackageRecord,
  methods: string[],
  lists: MultilibLists = {},
): boolean {
  return isMultilibCandidate(p, methods.filter(isMethod), lists);
}
