/**
 * Request checks of `pungi_compose` composes (ODCS type 7, pure): `source`
 * is the URL of one variant of a Pungi compose
 * (`…/compose/<Variant>/`), read by the worker together with the
 * compose's `metadata/` beside the variant; the packages are then taken
 * from Koji. Both URLs must lie under `ODCS_ALLOWED_REPO_URLS`, checked
 * as a `repo` source's URLs are.
 */

import { isAllowedUrl } from "../allowed-location.ts";
import { InvalidRequestError } from "../errors.ts";
import { validateKojiRequest } from "./koji.ts";
import { parseRepoLocation } from "./repo.ts";
import type { SourceRequest, SourceRequestSettings } from "./types.ts";

export interface PungiComposeLocation {
  /** The variant dir, without a trailing `/`. */
  variantUrl: string;
  /** The variant's uid: the last path segment of the URL. */
  variant: string;
  /** The compose's `metadata/` dir (the variant's parent + `/metadata`), without a trailing `/`. */
  metadataUrl: string;
}

/** Where a variant URL's compose metadata is (reference/compose-metadata.md §6 step 1). */
export function pungiComposeLocation(url: string): PungiComposeLocation {
  const variantUrl = url.replace(/\/+$/, "");
  const cut = variantUrl.lastIndexOf("/");
  const variant = variantUrl.slice(cut + 1);
  const parent = variantUrl.slice(0, cut);
  return { variantUrl, variant, metadataUrl: `${parent}/metadata` };
}

/** Throws `InvalidRequestError` (400) for a `pungi_compose` request this server cannot compose. */
export function validatePungiComposeRequest(req: SourceRequest, s: SourceRequestSettings): void {
  validateKojiRequest(req, s);
  if (req.sourceItems.length !== 1)
    throw new InvalidRequestError(
      `A "pungi_compose" compose takes one variant URL in "source", not ${req.sourceItems.length}: ${req.sourceItems.join(" ")}`,
    );
  const item = req.sourceItems[0] ?? "";
  if (!/^https?:\/\//i.test(item))
    throw new InvalidRequestError(
      `A "pungi_compose" source must be the http(s) URL of a variant of a Pungi compose (…/compose/<Variant>/), not "${item}"`,
    );
  const loc = parseRepoLocation(item, s);
  if (loc.kind !== "url") throw new Error("an http(s) item parsed as a path");
  const where = pungiComposeLocation(loc.url);
  if (!/^[A-Za-z0-9_.-]+$/.test(where.variant) || new URL(where.variantUrl).pathname === "/")
    throw new InvalidRequestError(
      `"${item}" does not name a variant: expected the URL of a variant dir of a Pungi compose (…/compose/<Variant>/)`,
    );
  if (!isAllowedUrl(where.metadataUrl, s.ODCS_ALLOWED_REPO_URLS))
    throw new InvalidRequestError(
      `The metadata of "${item}" (${where.metadataUrl}/) is not under an allowed URL prefix (${s.ODCS_ALLOWED_REPO_URLS.join(", ")})`,
    );
  // ODCS takes these from the compose's metadata and overwrites what was sent.
  if (req.builds !== null && req.builds !== "")
    throw new InvalidRequestError(
      'A "pungi_compose" compose takes its builds from the compose\'s rpms.json; leave "builds" out',
    );
  if (req.lookasideRepoList.length > 0)
    throw new InvalidRequestError(
      'A "pungi_compose" compose takes exactly the RPMs of the compose\'s rpms.json, solving nothing; leave "lookaside_repos" out',
    );
  if (req.packages !== null && req.packages !== "")
    throw new InvalidRequestError(
      'A "pungi_compose" compose takes its packages from the compose\'s rpms.json; leave "packages" out',
    );
}
