/**
 * Signing-key preference (ODCS/Pungi `sigkeys`): an ordered list of key ids;
 * the first key that has a copy of a package wins. `""` (or `null`) in the
 * list allows unsigned copies, tried only after every real key. Pure data:
 * works from header-derived sigkeys and from Koji signature rows alike.
 */

/** A key id that is not 8 or 16 hex digits. */
export class InvalidSigkeyError extends Error {
  override name = "InvalidSigkeyError";
}

export interface SigkeyPolicy {
  /** Lower-case 8-hex short ids, most preferred first, no duplicates. */
  keys: string[];
  allowUnsigned: boolean;
}

/**
 * Lower-case 8-hex short id of an 8- or 16-hex key id (a 16-hex id is
 * compared by its last 8 digits, as Koji records it). Throws
 * {@link InvalidSigkeyError} for anything else.
 */
export function normalizeSigkey(key: string): string {
  const k = key.trim().toLowerCase();
  if (/^[0-9a-f]{8}$/.test(k)) return k;
  if (/^[0-9a-f]{16}$/.test(k)) return k.slice(-8);
  throw new InvalidSigkeyError(
    `invalid sigkey ${JSON.stringify(key)}: expected 8 or 16 hex digits`,
  );
}

/** Build the policy from the request's list (`""`/`null` entries mean "unsigned allowed"). */
export function sigkeyPolicy(list: readonly (string | null)[]): SigkeyPolicy {
  const keys: string[] = [];
  let allowUnsigned = false;
  for (const entry of list) {
    if (entry === null || entry.trim() === "") {
      allowUnsigned = true;
      continue;
    }
    const k = normalizeSigkey(entry);
    if (!keys.includes(k)) keys.push(k);
  }
  return { keys, allowUnsigned };
}

/**
 * Preference rank of a copy signed with `sigkey` (`null`/`""` = unsigned):
 * 0 for the first key, …, `keys.length` for unsigned; `undefined` when the
 * policy does not accept it.
 */
export function sigkeyRank(
  sigkey: string | null | undefined,
  policy: SigkeyPolicy,
): number | undefined {
  if (sigkey === null || sigkey === undefined || sigkey === "") {
    return policy.allowUnsigned ? policy.keys.length : undefined;
  }
  const i = policy.keys.indexOf(normalizeSigkey(sigkey));
  return i < 0 ? undefined : i;
}

/**
 * Of the copies of one package (same NEVRA, different signatures), the most
 * preferred acceptable one; `undefined` when none is acceptable. Ties keep
 * input order.
 */
export function pickSignedCopy<T extends { sigkey?: string | null }>(
  copies: readonly T[],
  policy: SigkeyPolicy,
): T | undefined {
  let best: T | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const c of copies) {
    const r = sigkeyRank(c.sigkey, policy);
    if (r !== undefined && r < bestRank) {
      best = c;
      bestRank = r;
    }
  }
  return best;
}

/**
 * Koji signature rows of one RPM (`listTaggedRPMS(rpmsigs=True)` /
 * `queryRPMSigs`): the sigkey to fetch (`""` = the unsigned/as-imported
 * file), or `undefined` when no recorded signature is acceptable. A row with
 * `sigkey: null` means "no recorded header" and never matches.
 */
export function pickKojiSigkey(
  sigs: readonly { sigkey: string | null }[],
  policy: SigkeyPolicy,
): string | undefined {
  const usable = sigs.filter((s): s is { sigkey: string } => s.sigkey !== null);
  const best = pickSignedCopy(usable, policy);
  if (!best) return undefined;
  return best.sigkey === "" ? "" : normalizeSigkey(best.sigkey);
}

/**
 * The packages with no acceptable copy. `sigkeysOf(pkg)` lists the
 * signatures available for it (`null`/`""` = an unsigned copy).
 */
export function packagesWithoutAcceptableSignature<T>(
  packages: readonly T[],
  policy: SigkeyPolicy,
  sigkeysOf: (pkg: T) => readonly (string | null | undefined)[],
): T[] {
  return packages.filter((p) => !sigkeysOf(p).some((k) => sigkeyRank(k, policy) !== undefined));
}

/** The compose failure reason for those packages (names sorted, as NEVRA strings). */
export function noAcceptableSignatureMessage(nevras: readonly string[]): string {
  return `the following packages have no acceptable signature: ${[...nevras].sort().join(", ")}`;
}
