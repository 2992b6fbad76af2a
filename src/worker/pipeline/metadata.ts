import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PackageRecord } from "../../rpm/types.ts";
import { VARIANT } from "../paths.ts";

/** The `.repo` file ODCS writes (§13.3): exactly these nine lines. */
export function repoFileText(name: string, resultRepoUrl: string): string {
  const baseurl = resultRepoUrl ? `${resultRepoUrl}/$basearch/os` : "$basearch/os";
  return [
    `[${name}]`,
    `name=ODCS repository for compose ${name}`,
    `baseurl=${baseurl}`,
    "type=rpm-md",
    "skip_if_unavailable=False",
    "gpgcheck=0",
    "repo_gpgcheck=0",
    "enabled=1",
    "enabled_metadata=1",
    "",
  ].join("\n");
}

export interface PlacedRpm {
  treeArch: string;
  pkg: PackageRecord;
  /** Relative to `compose/`. */
  path: string;
  sigkey: string | null;
}

const nevra = (p: PackageRecord) =>
  `${p.name}-${p.epoch || "0"}:${p.version}-${p.release}.${p.arch}`;

function category(p: PackageRecord): "binary" | "debug" | "source" {
  if (p.arch === "src" || p.arch === "nosrc") return "source";
  return /-debug(info|source)$/.test(p.name) ? "debug" : "binary";
}

/** The SRPM NEVRA a binary comes from (from its sourcerpm file name). */
function srpmNevra(p: PackageRecord): string {
  if (category(p) === "source") return nevra(p);
  const m = /^(.*)-([^-]+)-([^-]+)\.(src|nosrc)\.rpm$/.exec(p.sourcerpm);
  if (!m) return nevra({ ...p, arch: "src" });
  return `${m[1]}-${p.epoch || "0"}:${m[2]}-${m[3]}.${m[4]}`;
}

/**
 * The release part of a Pungi compose id (`odcs-1` of `odcs-1-1-20261121.t.0`):
 * cut at the "-<version>-<date>" tail, not at the first "-1-", which would
 * also match inside `odcs-1-1-…`.
 */
function releaseName(pungiId: string): string {
  return pungiId.replace(/-1-\d{8}(\.[a-z]+)?\.\d+$/, "");
}

/** A JSON value with every object's keys sorted, recursively. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** A productmd file's text as productmd and Pungi write it: keys sorted, 4-space indent. */
export function productmdText(v: unknown): string {
  return `${JSON.stringify(sortKeys(v), null, 4)}\n`;
}

export interface ComposeInfo {
  id: string;
  date: string;
  type: string;
  respin: number;
}

/**
 * productmd `rpms.json` and `composeinfo.json` (reference/compose-metadata.md
 * §3–§4), so one of our composes can be a `pungi_compose` source.
 */
export async function writeComposeMetadata(
  composeDir: string,
  info: ComposeInfo,
  arches: readonly string[],
  rpms: readonly PlacedRpm[],
): Promise<void> {
  const tree: Record<
    string,
    Record<string, Record<string, { category: string; path: string; sigkey: string | null }>>
  > = {};
  for (const r of rpms) {
    const byArch = tree[r.treeArch] ?? {};
    tree[r.treeArch] = byArch;
    const group = byArch[srpmNevra(r.pkg)] ?? {};
    byArch[srpmNevra(r.pkg)] = group;
    group[nevra(r.pkg)] = { category: category(r.pkg), path: r.path, sigkey: r.sigkey };
  }
  const header = (type: string) => ({ type: `productmd.${type}`, version: "1.2" });
  const compose = { date: info.date, id: info.id, respin: info.respin, type: info.type };
  const rpmsJson = { header: header("rpms"), payload: { compose, rpms: { [VARIANT]: tree } } };
  const paths = (f: (a: string) => string) => Object.fromEntries(arches.map((a) => [a, f(a)]));
  const composeinfo = {
    header: header("composeinfo"),
    payload: {
      compose: { ...compose, final: false },
      release: {
        internal: false,
        name: releaseName(info.id),
        short: releaseName(info.id).slice(0, 16),
        type: "ga",
        version: "1",
        is_layered: false,
      },
      variants: {
        [VARIANT]: {
          arches: [...arches].sort(),
          id: VARIANT,
          name: VARIANT,
          type: "variant",
          uid: VARIANT,
          paths: {
            os_tree: paths((a) => `${VARIANT}/${a}/os`),
            packages: paths((a) => `${VARIANT}/${a}/os/Packages`),
            repository: paths((a) => `${VARIANT}/${a}/os`),
          },
        },
      },
    },
  };
  const dir = join(composeDir, "compose", "metadata");
  await Promise.all([
    writeFile(join(dir, "rpms.json"), productmdText(rpmsJson)),
    writeFile(join(dir, "composeinfo.json"), productmdText(composeinfo)),
  ]);
}

/** Pungi compose id `odcs-<id>-1-<YYYYMMDD><suffix>.<respin>` (§13.2). */
export function pungiComposeId(
  id: number,
  composeType: string | null,
  date: Date,
  respin = 0,
): string {
  const suffix: Record<string, string> = {
    test: ".t",
    nightly: ".n",
    ci: ".ci",
    development: ".d",
    production: "",
  };
  const ymd = date.toISOString().slice(0, 10).replace(/-/g, "");
  const short = `odcs-${id}`.slice(0, 16);
  return `${short}-1-${ymd}${suffix[composeType ?? "test"] ?? ".t"}.${respin}`;
}
