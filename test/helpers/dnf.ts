/**
 * Runs the real `dnf` against local repository directories, isolated from the
 * host: no host repos (`reposdir=/dev/null`), an empty config file, no
 * plugins, a fresh `--installroot` and cache per call (unless given), GPG
 * checks off. Use it as an oracle: "can dnf read this repodata, and what does
 * it see in it?".
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export interface DnfRepo {
  id: string;
  /** Absolute path of the repository root (the directory holding repodata/). */
  dir: string;
}

export interface DnfEnv {
  /** One directory (repo id `test`) or several named repositories. */
  repos: string | readonly DnfRepo[];
  /** `--forcearch`; default x86_64. */
  arch?: string;
  /** An empty installroot has no release to detect; default "29". */
  releasever?: string;
  /** Reuse this installroot (e.g. to install in steps); default a fresh temp dir per call. */
  installroot?: string;
  /** Further `--setopt` values, e.g. `install_weak_deps=False`. */
  setopt?: readonly string[];
}

export interface DnfResult {
  stdout: string;
  stderr: string;
}

function repoList(repos: DnfEnv["repos"]): readonly DnfRepo[] {
  return typeof repos === "string" ? [{ id: "test", dir: repos }] : repos;
}

async function withRoot<T>(env: DnfEnv, fn: (root: string, scratch: string) => Promise<T>) {
  const scratch = await mkdtemp(join(tmpdir(), "odcs-dnf-"));
  try {
    return await fn(env.installroot ?? join(scratch, "root"), scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function runDnf(env: DnfEnv, root: string, scratch: string, args: readonly string[]) {
  const config = join(scratch, "dnf.conf");
  await writeFile(config, "[main]\n");
  const repoArgs = repoList(env.repos).flatMap((r) => [
    `--repofrompath=${r.id},${r.dir}`,
    `--repo=${r.id}`,
  ]);
  const argv = [
    "-q",
    "-y",
    `--config=${config}`,
    "--disableplugin=*",
    "--setopt=reposdir=/dev/null",
    `--setopt=cachedir=${join(scratch, "cache")}`,
    "--nogpgcheck",
    `--installroot=${root}`,
    `--forcearch=${env.arch ?? "x86_64"}`,
    `--releasever=${env.releasever ?? "29"}`,
    ...(env.setopt ?? []).map((o) => `--setopt=${o}`),
    ...repoArgs,
    ...args,
  ];
  try {
    const { stdout, stderr } = await execFileP("dnf", argv, { maxBuffer: 256 << 20 });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { stderr?: string; code?: number };
    throw new Error(`dnf ${args.join(" ")} failed (${e.code}): ${e.stderr ?? String(err)}`);
  }
}

/** Any dnf command (after the isolation options); throws with stderr on failure. */
export function dnf(env: DnfEnv, args: readonly string[]): Promise<DnfResult> {
  return withRoot(env, (root, scratch) => runDnf(env, root, scratch, args));
}

/**
 * `dnf repoquery --qf <queryformat> [...args]`, stdout split into lines, in
 * dnf's order. Multi-valued tags (`%{requires}`, `%{files}`) print one value
 * per line.
 */
export async function dnfRepoquery(
  env: DnfEnv,
  queryformat: string,
  args: readonly string[] = [],
): Promise<string[]> {
  const { stdout } = await dnf(env, ["repoquery", "--qf", queryformat, ...args]);
  return stdout.split("\n").filter((l) => l !== "");
}

/**
 * `dnf install` into an (empty) installroot; returns the NEVRAs rpm then
 * reports installed there, sorted.
 */
export function dnfInstall(env: DnfEnv, specs: readonly string[]): Promise<string[]> {
  return withRoot(env, async (root, scratch) => {
    await runDnf(env, root, scratch, ["install", ...specs]);
    const { stdout } = await execFileP("rpm", [
      "--root",
      root,
      "-qa",
      "--qf",
      "%{NAME}-%{EVR}.%{ARCH}\\n",
    ]);
    return stdout
      .split("\n")
      .filter((l) => l !== "")
      .sort();
  });
}

/**
 * `dnf install --downloadonly`: resolves and downloads (copies, for local
 * repos) the transaction; returns the downloaded file names, sorted.
 */
export function dnfDownload(env: DnfEnv, specs: readonly string[]): Promise<string[]> {
  return withRoot(env, async (root, scratch) => {
    const dest = join(scratch, "download");
    await runDnf(env, root, scratch, [
      "install",
      "--downloadonly",
      `--downloaddir=${dest}`,
      ...specs,
    ]);
    return (await readdir(dest)).filter((f) => f.endsWith(".rpm")).sort();
  });
}
