/**
 * Runs test/helpers/libsolv-oracle.py (libsolv's own solver through
 * python3-solv) so depsolver tests can compare our closures with libsolv's.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** python3-solv is installed for the system python only (not pyenv's). */
export const SYSTEM_PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./libsolv-oracle.py", import.meta.url));

export interface OracleRepo {
  /** Path of primary.xml(.gz/.xz/.zst). */
  primary: string;
  filelists?: string | null;
}

export interface OracleRequest {
  arch: string;
  repos: OracleRepo[];
  lookaside?: OracleRepo[];
  install: string[];
  /** Follow weak deps (libsolv: Recommends and Supplements). Default false. */
  recommends?: boolean;
}

export interface OracleResult {
  /** NEVRAs libsolv installs, `name-[e:]v-r.arch`, sorted. */
  install: string[];
  problems: string[];
}

export function solveWithLibsolv(req: OracleRequest): OracleResult {
  const run = spawnSync(SYSTEM_PYTHON, [SCRIPT], {
    input: JSON.stringify(req),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`libsolv oracle failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as OracleResult;
}
