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

export interface OraclePool {
  arch: string;
  /** Installable arches (noarch implied); default: libsolv's for `arch`. */
  arches?: string[];
  repos: OracleRepo[];
  lookaside?: OracleRepo[];
  /** Follow weak deps (libsolv: Recommends and Supplements). Default false. */
  recommends?: boolean;
}

export interface OracleRequest extends OraclePool {
  install: string[];
}

export interface OracleResult {
  /** NEVRAs libsolv installs, `name-[e:]v-r.arch`, sorted. */
  install: string[];
  problems: string[];
}

function run(input: unknown): unknown {
  const out = spawnSync(SYSTEM_PYTHON, [SCRIPT], {
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`libsolv oracle failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

export function solveWithLibsolv(req: OracleRequest): OracleResult {
  return run(req) as OracleResult;
}

/**
 * Many requests against one pool, loaded once; results in request order. A
 * `{ verify }` request installs exactly those NEVRAs: its problems say why
 * they cannot be installed together.
 */
export function solveManyWithLibsolv(
  pool: OraclePool,
  requests: (string[] | { verify: string[] })[],
): OracleResult[] {
  return run({ ...pool, requests }) as OracleResult[];
}
