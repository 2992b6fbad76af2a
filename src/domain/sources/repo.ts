import { isAllowedUrl, isUnderRoot } from "../allowed-location.ts";
import { InvalidRequestError } from "../errors.ts";
import type { SourceRequest } from "./types.ts";

/**
 * Where a `repo` compose may read from. Pure string checks, done at request
 * time so a bad source never becomes a row; the worker repeats the path
 * check after resolving symlinks.
 */
export interface RepoSourcePolicy {
  ODCS_ALLOWED_REPO_ROOTS: readonly string[];
  ODCS_ALLOWED_REPO_URLS: readonly string[];
}

export { isUnderRoot };

export type RepoLocation = { kind: "path"; path: string } | { kind: "url"; url: string };

const stripSlash = (s: string) => (s.length > 1 ? s.replace(/\/+$/, "") : s);

function checkPath(item: string, policy: RepoSourcePolicy): RepoLocation {
  if (item === "") {
    throw new InvalidRequestError(
      "Empty repository path: source items are separated by single spaces, with none before or after",
    );
  }
  if (!item.startsWith("/"))
    throw new InvalidRequestError(`Repository path "${item}" must be absolute`);
  const segments = item.split("/").slice(1);
  if (segments.some((s) => s === ".." || s === ".")) {
    throw new InvalidRequestError(
      `Repository path "${item}" must not contain "." or ".." segments`,
    );
  }
  // "//" is refused rather than collapsed: the stored source is what the
  // worker reads, and one spelling per directory keeps reuse and the
  // allowed-root check simple. A single trailing "/" is fine.
  if (segments.slice(0, -1).includes("")) {
    throw new InvalidRequestError(
      `Repository path "${item}" must not contain empty segments ("//")`,
    );
  }
  const path = stripSlash(item);
  if (!policy.ODCS_ALLOWED_REPO_ROOTS.some((root) => isUnderRoot(path, root))) {
    throw new InvalidRequestError(
      policy.ODCS_ALLOWED_REPO_ROOTS.length === 0
        ? `Repository path "${item}" is not allowed: this server allows no local repository roots (ODCS_ALLOWED_REPO_ROOTS)`
        : `Repository path "${item}" is not under an allowed root (${policy.ODCS_ALLOWED_REPO_ROOTS.join(", ")})`,
    );
  }
  return { kind: "path", path };
}

function checkUrl(item: string, policy: RepoSourcePolicy): RepoLocation {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    throw new InvalidRequestError(`Repository URL "${item}" is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidRequestError(`Repository URL "${item}" must be http or https`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InvalidRequestError(
      `Repository URL "${item}" must not contain credentials, a query or a fragment`,
    );
  }
  // The URL parser resolves "..", "%2e%2e" and "\\" before we could see
  // them, so the raw text is checked: one spelling per location, and no
  // way to climb out of an allowed prefix.
  const afterScheme = item.replace(/^[a-z][a-z0-9+.-]*:/i, "");
  if (/[%\\]/.test(item) || /\/\.\.?(\/|$)/.test(afterScheme)) {
    throw new InvalidRequestError(
      `Repository URL "${item}" must not contain "." or ".." segments, percent-escapes or backslashes`,
    );
  }
  const href = stripSlash(url.href);
  if (!isAllowedUrl(href, policy.ODCS_ALLOWED_REPO_URLS)) {
    throw new InvalidRequestError(
      policy.ODCS_ALLOWED_REPO_URLS.length === 0
        ? `Repository URL "${item}" is not allowed: this server allows no repository URLs (ODCS_ALLOWED_REPO_URLS)`
        : `Repository URL "${item}" is not under an allowed URL prefix (${policy.ODCS_ALLOWED_REPO_URLS.join(", ")})`,
    );
  }
  return { kind: "url", url: `${href}/` };
}

/** Check one `source` item or lookaside repo; throws `InvalidRequestError` naming the item. */
export function parseRepoLocation(item: string, policy: RepoSourcePolicy): RepoLocation {
  if (/^[a-z][a-z0-9+.-]*:/i.test(item)) return checkUrl(item, policy);
  return checkPath(item, policy);
}

/** A `repo` compose: every source item is an allowed location. */
export function validateRepoRequest(req: SourceRequest, policy: RepoSourcePolicy): void {
  for (const item of req.sourceItems) parseRepoLocation(item, policy);
}
