/**
 * `module_defaults_url` + `module_defaults_commit`: a git repository of
 * `modulemd-defaults` documents (Pungi's `module_defaults_dir`: the
 * top-level `*.yaml` files). Fetched read-only into a bare repository —
 * one commit, no working tree, so no checkout, hook or symlink of the
 * repository ever runs or is followed — and read blob by blob. Bounded by
 * ODCS_GIT_TIMEOUT_MS and ODCS_GIT_MAX_BYTES; only URLs under a prefix of
 * ODCS_ALLOWED_GIT_URLS.
 */

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isAllowedGitUrl } from "../../domain/sources/git-url.ts";
import { defaultsDocuments } from "../../rpm/modulemd.ts";
import { ComposeError } from "../errors.ts";
import type { SourceContext } from "../types.ts";

export interface DefaultsSpec {
  url: string;
  /** Branch, tag or commit. */
  ref: string;
}

/** How much of git's stderr a reason quotes. */
const MAX_STDERR_CHARS = 2000;
/** How often the fetched bytes are measured against ODCS_GIT_MAX_BYTES. */
const SIZE_CHECK_MS = 100;

/** `module_defaults_url` as stored (`"<url> <commit>"`, §7.3); `null` when not given. */
export function parseDefaultsSpec(stored: string | null): DefaultsSpec | null {
  if (!stored) return null;
  const at = stored.lastIndexOf(" ");
  if (at <= 0) return null;
  return { url: stored.slice(0, at), ref: stored.slice(at + 1) };
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

interface GitRun {
  stdout: Buffer;
}

/**
 * Run git in a process group of its own, and on `signal` SIGKILL the whole
 * group: `git fetch` over http(s) hands the transfer to a `git remote-http`
 * child, which a signal to git alone leaves running, orphaned, on its
 * connection and holding the stderr pipe — the fetch would neither stop
 * nor settle until the server gave up. Settles only once every process of
 * the group has closed its pipes.
 */
function git(args: string[], cwd: string, signal: AbortSignal, home: string): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const child = spawn(
      "git",
      ["-c", "core.hooksPath=/dev/null", "-c", "protocol.file.allow=always", ...args],
      {
        cwd,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          GIT_TERMINAL_PROMPT: "0",
          GIT_ASKPASS: "/bin/false",
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_ALLOW_PROTOCOL: "https:http:file",
        },
      },
    );
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (err.length < MAX_STDERR_CHARS) err += d.slice(0, MAX_STDERR_CHARS - err.length);
    });
    let failure: Error | undefined;
    const kill = () => {
      failure ??= new DOMException("git was aborted", "AbortError");
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    };
    signal.addEventListener("abort", kill, { once: true });
    child.once("error", (e) => {
      if (child.pid === undefined) {
        signal.removeEventListener("abort", kill);
        reject(e);
      } else failure ??= e;
    });
    child.once("close", (code) => {
      signal.removeEventListener("abort", kill);
      if (failure) reject(failure);
      else if (code === 0) resolve({ stdout: Buffer.concat(out) });
      else reject(new Error(err.trim() || `git ${args[0]} exited with ${code}`));
    });
  });
}

/**
 * The `modulemd-defaults` documents of `spec`'s repository at its ref, and
 * the commit they were read at. Throws `ComposeError` (a URL not allowed,
 * an unknown ref, too large, too slow).
 */
export async function fetchModuleDefaults(
  spec: DefaultsSpec,
  ctx: Pick<SourceContext, "config" | "signal">,
): Promise<{ commit: string; documents: { module: string; text: string }[] }> {
  const { ODCS_ALLOWED_GIT_URLS, ODCS_GIT_TIMEOUT_MS, ODCS_GIT_MAX_BYTES, ODCS_CACHE_DIR } =
    ctx.config;
  if (!isAllowedGitUrl(spec.url, ODCS_ALLOWED_GIT_URLS))
    throw new ComposeError(
      `module_defaults_url ${spec.url} is not allowed: ${
        ODCS_ALLOWED_GIT_URLS.length === 0
          ? "ODCS_ALLOWED_GIT_URLS is empty"
          : `not under a prefix of ODCS_ALLOWED_GIT_URLS (${ODCS_ALLOWED_GIT_URLS.join(", ")})`
      }`,
    );
  if (spec.ref.startsWith("-") || spec.url.startsWith("-"))
    throw new ComposeError(`module_defaults_commit ${spec.ref} is not a git ref`);
  const dir = join(ODCS_CACHE_DIR, "git", randomBytes(8).toString("hex"));
  await mkdir(dir, { recursive: true });
  const timeout = AbortSignal.timeout(ODCS_GIT_TIMEOUT_MS);
  const tooBig = new AbortController();
  const signal = AbortSignal.any([ctx.signal, timeout, tooBig.signal]);
  let measuring = false;
  const meter = setInterval(() => {
    if (measuring) return;
    measuring = true;
    void dirBytes(dir).then((n) => {
      measuring = false;
      if (n > ODCS_GIT_MAX_BYTES) tooBig.abort();
    });
  }, SIZE_CHECK_MS);
  const where = `${spec.url} (${spec.ref})`;
  try {
    await git(["init", "-q", "--bare", "--template=", "."], dir, signal, dir);
    try {
      await git(
        ["fetch", "-q", "--depth=1", "--no-tags", "--", spec.url, spec.ref],
        dir,
        signal,
        dir,
      );
    } catch (err) {
      if (tooBig.signal.aborted)
        throw new ComposeError(
          `module defaults ${where}: the repository is larger than ODCS_GIT_MAX_BYTES (${ODCS_GIT_MAX_BYTES} bytes)`,
        );
      if (timeout.aborted)
        throw new ComposeError(
          `module defaults ${where}: fetching took longer than ODCS_GIT_TIMEOUT_MS (${ODCS_GIT_TIMEOUT_MS} ms)`,
          { retryable: true },
        );
      if (ctx.signal.aborted) throw err;
      throw new ComposeError(
        `cannot fetch module defaults ${where}: ${(err as Error).message.split("\n").at(-1)}`,
      );
    }
    if ((await dirBytes(dir)) > ODCS_GIT_MAX_BYTES)
      throw new ComposeError(
        `module defaults ${where}: the repository is larger than ODCS_GIT_MAX_BYTES (${ODCS_GIT_MAX_BYTES} bytes)`,
      );
    const commit = (await git(["rev-parse", "FETCH_HEAD^{commit}"], dir, signal, dir)).stdout
      .toString()
      .trim();
    const tree = (await git(["ls-tree", "-z", "-l", commit], dir, signal, dir)).stdout.toString(
      "utf8",
    );
    const documents: { module: string; text: string }[] = [];
    // Blobs are inflated when read: their sizes count against the limit too (a zip bomb of YAML).
    let read = 0;
    for (const entry of tree.split("\0")) {
      const m = /^100644 blob ([0-9a-f]+) +(\d+)\t(.+\.yaml)$/.exec(entry);
      if (!m?.[1]) continue;
      read += Number(m[2]);
      if (read > ODCS_GIT_MAX_BYTES)
        throw new ComposeError(
          `module defaults ${where}: the YAML files are larger than ODCS_GIT_MAX_BYTES (${ODCS_GIT_MAX_BYTES} bytes)`,
        );
      const blob = (await git(["cat-file", "blob", m[1]], dir, signal, dir)).stdout.toString(
        "utf8",
      );
      documents.push(...defaultsDocuments(blob));
    }
    return { commit, documents };
  } finally {
    clearInterval(meter);
    await rm(dir, { recursive: true, force: true });
  }
}
