/**
 * Where a location named by a repository's metadata leads, and whether the
 * worker may go there. repomd.xml's `location href`, primary.xml's
 * `location href` and `xml:base` come from the repository, not from the
 * operator: without this check an allowed repository could make the worker
 * request any URL (SSRF) or read any local file. Every URL and path the
 * worker derives from metadata (metadata files, header Range reads, RPM
 * downloads and placements) goes through `locate`, and a local path is
 * checked again once its symlinks are resolved (`checkRealPath`).
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isAllowedPath, isAllowedUrl } from "../domain/allowed-location.ts";
import type { RepoLocation, RepoSourcePolicy } from "../domain/sources/repo.ts";
import { ComposeError } from "./errors.ts";

export type Target = { kind: "path"; path: string } | { kind: "url"; url: string };

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** How a refusal names the location: the href and the xml:base it was read with. */
function named(href: string, base: string | undefined): string {
  return base === undefined
    ? `location ${JSON.stringify(href)}`
    : `location ${JSON.stringify(href)} with xml:base ${JSON.stringify(base)}`;
}

function refuse(what: string, href: string, base: string | undefined, why: string): never {
  throw new ComposeError(`${what}: ${named(href, base)} ${why}`);
}

function urlTarget(
  repoUrl: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): Target {
  let url: URL;
  try {
    url = new URL(href, base === undefined ? repoUrl : new URL(base, repoUrl));
  } catch {
    return refuse(what, href, base, "is not a valid URL");
  }
  url.hash = "";
  if (!isAllowedUrl(url.href, policy.ODCS_ALLOWED_REPO_URLS))
    refuse(
      what,
      href,
      base,
      `resolves to ${url.href}, which is not under an allowed URL prefix (ODCS_ALLOWED_REPO_URLS)`,
    );
  return { kind: "url", url: url.href };
}

function pathTarget(
  root: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): Target {
  let dir = root;
  if (base !== undefined) {
    if (HAS_SCHEME.test(base)) {
      let baseUrl: URL;
      try {
        baseUrl = new URL(base);
      } catch {
        return refuse(what, href, base, "has an xml:base that is not a valid URL");
      }
      // A local repository is read locally: following a remote base would
      // let a file under an allowed root send the worker to any server.
      if (baseUrl.protocol !== "file:")
        refuse(what, href, base, "points away from the local repository (xml:base not file:)");
      try {
        dir = fileURLToPath(baseUrl);
      } catch (err) {
        return refuse(what, href, base, `has an unusable xml:base: ${(err as Error).message}`);
      }
    } else {
      dir = isAbsolute(base) ? base : join(root, base);
    }
  }
  // href is a path relative to its base, as librepo joins it: a leading "/"
  // does not make it absolute. join() resolves "..", so the check sees
  // where it really leads.
  const path = join(dir, href);
  if (!isAllowedPath(path, policy.ODCS_ALLOWED_REPO_ROOTS))
    refuse(
      what,
      href,
      base,
      `resolves to ${path}, which is outside the allowed roots (ODCS_ALLOWED_REPO_ROOTS)`,
    );
  return { kind: "path", path };
}

/**
 * The target of `href` (relative to `base`, its `xml:base`, when given, else
 * to the repository `repo` — for a local one, its real path), if the
 * operator allows it: a URL under an allowed URL prefix, or a path under an
 * allowed root. A remote repository only ever leads to URLs; a local one
 * only to paths. Throws a non-retryable `ComposeError` naming `what` (the
 * package or metadata file) and the location otherwise, before anything is
 * requested.
 */
export function locate(
  repo: RepoLocation,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): Target {
  return repo.kind === "url"
    ? urlTarget(repo.url, href, base, policy, what)
    : pathTarget(repo.path, href, base, policy, what);
}

/** `locate` for a remote repository: the URL. */
export function locateUrl(
  repoUrl: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): string {
  const t = locate({ kind: "url", url: repoUrl }, href, base, policy, what);
  if (t.kind !== "url") throw new ComposeError(`${what}: ${named(href, base)} is not a URL`);
  return t.url;
}

/** `locate` for a local repository (`root` resolved): the path, symlinks not yet followed. */
export function locatePath(
  root: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): string {
  const t = locate({ kind: "path", path: root }, href, base, policy, what);
  if (t.kind !== "path") throw new ComposeError(`${what}: ${named(href, base)} is not a path`);
  return t.path;
}

/** Throws unless `real` (a path with its symlinks resolved) lies under an allowed root. */
export function checkRealPath(
  real: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): string {
  if (!isAllowedPath(real, policy.ODCS_ALLOWED_REPO_ROOTS))
    refuse(
      what,
      href,
      base,
      `resolves to ${real} through symlinks, which is outside the allowed roots (ODCS_ALLOWED_REPO_ROOTS)`,
    );
  return real;
}

/**
 * `locatePath`, then the symlinks resolved and checked again: the path to
 * open. A missing file rejects with the file system's error (ENOENT).
 */
export async function locateRealPath(
  root: string,
  href: string,
  base: string | undefined,
  policy: RepoSourcePolicy,
  what: string,
): Promise<string> {
  const path = locatePath(root, href, base, policy, what);
  return checkRealPath(await realpath(path), href, base, policy, what);
}
