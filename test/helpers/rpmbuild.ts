/**
 * Build real RPMs for tests from a small declarative description.
 *
 *   const [foo, libfoo] = await buildRpms([
 *     { name: "foo", version: "1.0", requires: ["libfoo.so.1()(64bit)", "(bar if baz)"],
 *       files: ["/usr/bin/foo"] },
 *     { name: "libfoo", arch: "i686", provides: ["libfoo.so.1"],
 *       files: ["/usr/lib/libfoo.so.1", { path: "/etc/foo.d", dir: true }] },
 *   ]);
 *   foo.path   // absolute path of the .rpm (inside .cache/rpms/<hash>/)
 *   await createRepo(dir, [foo.path, libfoo.path]);   // dir/ + repodata via createrepo_c
 *
 * - `arch` defaults to `noarch`; any other arch is built with `--target <arch>`.
 *   Files are written by the spec's %install with `base64 -d`, so no compiler
 *   is ever needed; automatic dependency generation is off (`AutoReqProv: no`),
 *   so sonames etc. must be listed in `provides`/`requires`.
 * - Builds are reproducible (SOURCE_DATE_EPOCH, fixed build host) and cached
 *   by a hash of the description in `.cache/rpms/<hash>/` (git-ignored);
 *   descriptions not cached yet are built with one rpmbuild run per target
 *   arch (more when two share a NEVRA), the runs in parallel.
 * - Signing lives in `rpmsign.ts` (`createTestKey`, `signRpm`).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Bump when the generated spec changes, so old cache entries are not reused. */
const SPEC_FORMAT = 2;
export const RPM_CACHE_DIR = resolve(import.meta.dirname, "../../.cache/rpms");
export const BUILD_TIME = 1_700_000_000;

export interface FileSpec {
  path: string;
  /** File content; default empty. */
  content?: string;
  /** A directory owned by the package (`%dir`). */
  dir?: boolean;
  /** `%ghost` entry (listed, not shipped). */
  ghost?: boolean;
  /** Octal mode, e.g. 0o755; default 0755 under a bin/ dir, else 0644. */
  mode?: number;
}

export interface RpmDescription {
  name: string;
  version?: string;
  release?: string;
  epoch?: number;
  /** Default `noarch`. */
  arch?: string;
  summary?: string;
  description?: string;
  license?: string;
  /** Each entry is one spec line value, e.g. `"foo >= 1.2"` or a rich dep `"(a or b)"`. */
  requires?: string[];
  /** `Requires(pre):` — written as pre="1" in primary. */
  requiresPre?: string[];
  provides?: string[];
  conflicts?: string[];
  obsoletes?: string[];
  recommends?: string[];
  suggests?: string[];
  supplements?: string[];
  enhances?: string[];
  /** Paths (strings are regular files) or detailed entries. */
  files?: (string | FileSpec)[];
  changelog?: { date: string; author: string; text: string }[];
  /** Also build the source RPM (`srpmPath`). */
  buildSrpm?: boolean;
}

export interface BuiltRpm {
  description: RpmDescription;
  /** The binary RPM. */
  path: string;
  srpmPath?: string;
  /** `name-version-release.arch.rpm` */
  fileName: string;
}

const archOf = (d: RpmDescription) => d.arch ?? "noarch";
const evrOf = (d: RpmDescription) => ({ version: d.version ?? "1.0", release: d.release ?? "1" });

export function rpmFileName(d: RpmDescription, arch = archOf(d)): string {
  const { version, release } = evrOf(d);
  return `${d.name}-${version}-${release}.${arch}.rpm`;
}

export function descriptionHash(d: RpmDescription): string {
  return createHash("sha256").update(JSON.stringify({ SPEC_FORMAT, d })).digest("hex").slice(0, 20);
}

function fileLines(d: RpmDescription): { install: string[]; list: string[] } {
  const install: string[] = [];
  const list: string[] = [];
  for (const f of d.files ?? []) {
    const spec: FileSpec = typeof f === "string" ? { path: f } : f;
    const target = `%{buildroot}${spec.path}`;
    const mode =
      spec.mode ?? (spec.path.includes("bin/") && !spec.dir ? 0o755 : spec.dir ? 0o755 : 0o644);
    if (spec.dir) {
      install.push(`mkdir -p '${target}'`);
      list.push(`%dir %attr(${mode.toString(8)},root,root) ${spec.path}`);
      continue;
    }
    const b64 = Buffer.from(spec.content ?? "").toString("base64");
    install.push(`mkdir -p "$(dirname '${target}')"`, `echo '${b64}' | base64 -d > '${target}'`);
    list.push(`${spec.ghost ? "%ghost " : ""}%attr(${mode.toString(8)},root,root) ${spec.path}`);
  }
  return { install, list };
}

/** The generated spec file (exported for debugging failed builds). */
export function specFor(d: RpmDescription): string {
  const { version, release } = evrOf(d);
  const lines = [
    "%global debug_package %{nil}",
    "%global __os_install_post %{nil}",
    `Name: ${d.name}`,
    `Version: ${version}`,
    `Release: ${release}`,
    ...(d.epoch === undefined ? [] : [`Epoch: ${d.epoch}`]),
    `Summary: ${d.summary ?? `Test package ${d.name}`}`,
    `License: ${d.license ?? "MIT"}`,
    "AutoReqProv: no",
    ...(archOf(d) === "noarch" ? ["BuildArch: noarch"] : []),
  ];
  const deps: [string, string[] | undefined][] = [
    ["Requires", d.requires],
    ["Requires(pre)", d.requiresPre],
    ["Provides", d.provides],
    ["Conflicts", d.conflicts],
    ["Obsoletes", d.obsoletes],
    ["Recommends", d.recommends],
    ["Suggests", d.suggests],
    ["Supplements", d.supplements],
    ["Enhances", d.enhances],
  ];
  for (const [tag, values] of deps) for (const v of values ?? []) lines.push(`${tag}: ${v}`);
  const { install, list } = fileLines(d);
  lines.push(
    "",
    "%description",
    d.description ?? `Test package ${d.name}.`,
    "",
    "%install",
    "mkdir -p %{buildroot}",
    ...install,
    "",
    "%files",
    ...list,
  );
  if (d.changelog?.length) {
    lines.push("", "%changelog");
    for (const c of d.changelog) lines.push(`* ${c.date} ${c.author}`, c.text, "");
  }
  return `${lines.join("\n")}\n`;
}

function cached(d: RpmDescription): BuiltRpm | undefined {
  const dir = join(RPM_CACHE_DIR, descriptionHash(d));
  const path = join(dir, rpmFileName(d));
  if (!existsSync(path)) return undefined;
  const srpm = join(dir, rpmFileName(d, "src"));
  const built: BuiltRpm = { description: d, path, fileName: rpmFileName(d) };
  if (d.buildSrpm) {
    if (!existsSync(srpm)) return undefined;
    built.srpmPath = srpm;
  }
  return built;
}

/** One rpmbuild run for descriptions sharing a target arch; results moved into the cache. */
async function buildGroup(arch: string, ds: RpmDescription[]): Promise<void> {
  await mkdir(RPM_CACHE_DIR, { recursive: true });
  const top = await mkdtemp(join(RPM_CACHE_DIR, ".build-"));
  try {
    const specs = await Promise.all(
      ds.map(async (d, i) => {
        const p = join(top, `${i}-${d.name}.spec`);
        await writeFile(p, specFor(d));
        return p;
      }),
    );
    const args = [
      ds.some((d) => d.buildSrpm) ? "-ba" : "-bb",
      "--nodeps",
      "--quiet",
      "--define",
      `_topdir ${top}`,
      "--define",
      `_tmppath ${top}/tmp`,
      "--define",
      "_buildhost odcs-test.example",
      "--define",
      "use_source_date_epoch_as_buildtime 1",
      "--define",
      "clamp_mtime_to_source_date_epoch 1",
      "--define",
      "_build_id_links none",
      ...(arch === "noarch" ? [] : ["--target", arch]),
      ...specs,
    ];
    await mkdir(join(top, "tmp"));
    await run("rpmbuild", args, {
      env: { ...process.env, SOURCE_DATE_EPOCH: String(BUILD_TIME), LC_ALL: "C" },
      maxBuffer: 64 * 1024 * 1024,
    });
    await Promise.all(ds.map((d) => moveIntoCache(top, d)));
  } finally {
    await rm(top, { recursive: true, force: true });
  }
}

async function moveIntoCache(top: string, d: RpmDescription): Promise<void> {
  const staging = join(top, `out-${descriptionHash(d)}`);
  await mkdir(staging);
  await rename(join(top, "RPMS", archOf(d), rpmFileName(d)), join(staging, rpmFileName(d)));
  if (d.buildSrpm) {
    const srcs = await readdir(join(top, "SRPMS"));
    const src = srcs.find((f) => f.startsWith(`${d.name}-${evrOf(d).version}-`));
    if (src) await rename(join(top, "SRPMS", src), join(staging, rpmFileName(d, "src")));
  }
  // Another test process may have built the same description meanwhile: keep theirs.
  await rename(staging, join(RPM_CACHE_DIR, descriptionHash(d))).catch(() => undefined);
}

/** Build (or take from cache) every description; results in input order. */
export async function buildRpms(ds: RpmDescription[]): Promise<BuiltRpm[]> {
  // One rpmbuild run writes every result into RPMS/<arch>/<file name>, so two
  // descriptions with the same NEVRA (e.g. one signed differently later, or
  // another build of it) go into separate runs, or one would overwrite the other.
  const groups = new Map<string, { arch: string; ds: RpmDescription[] }>();
  const hashes = new Set<string>();
  for (const d of ds.filter((x) => !cached(x))) {
    const hash = descriptionHash(d);
    if (hashes.has(hash)) continue;
    hashes.add(hash);
    for (let round = 0; ; round++) {
      const id = `${archOf(d)}\0${round}`;
      const group = groups.get(id) ?? { arch: archOf(d), ds: [] };
      if (group.ds.some((g) => rpmFileName(g) === rpmFileName(d))) continue;
      group.ds.push(d);
      groups.set(id, group);
      break;
    }
  }
  await Promise.all([...groups.values()].map((g) => buildGroup(g.arch, g.ds)));
  return ds.map((d) => {
    const built = cached(d);
    if (!built) throw new Error(`rpmbuild produced no ${rpmFileName(d)}`);
    return built;
  });
}

export async function buildRpm(d: RpmDescription): Promise<BuiltRpm> {
  const [built] = await buildRpms([d]);
  if (!built) throw new Error(`no build for ${d.name}`);
  return built;
}

/**
 * Make `dir` a yum repository of `rpms` (hardlinked, copied across devices)
 * with createrepo_c; `subdir` places the packages (e.g. `Packages`).
 * Extra createrepo_c arguments go in `args`. Returns `dir`.
 */
export async function createRepo(
  dir: string,
  rpms: string[],
  opts: { subdir?: string; args?: string[] } = {},
): Promise<string> {
  const target = join(dir, opts.subdir ?? "");
  await mkdir(target, { recursive: true });
  await Promise.all(
    rpms.map(async (p) => {
      const dest = join(target, p.split("/").at(-1) ?? p);
      await link(p, dest).catch(() => copyFile(p, dest));
    }),
  );
  await run("createrepo_c", ["--quiet", "--no-database", ...(opts.args ?? []), dir]);
  return dir;
}
