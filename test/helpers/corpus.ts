/**
 * Deterministic synthetic repodata for depsolver tests and benchmarks:
 * primary.xml + filelists.xml + repomd.xml text with versioned deps, file
 * deps (primary and filelists-only paths), rich deps, several versions per
 * name, noarch, multilib (i686) copies, obsoletes, conflicts and virtual
 * provides. Same seed → same bytes.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CorpusOptions {
  packages: number;
  seed: number;
  /** Share of requires that nothing provides (0..1). Default 0.01. */
  brokenRate?: number;
  /** Harder shapes on top of the default one; drawn from a second generator so without it the bytes stay the same. */
  shape?: CorpusShape;
}

/** Each field is the share of packages (or versions) that get the feature. */
export interface CorpusShape {
  /** A conflict or obsoletes on an earlier name — one that can be a dependency — so solving must backtrack. */
  backConflicts?: number;
  /** A rich conflict (`and`, `or`, `if`, `if … else`, `unless`, `with`, versioned operands) on earlier names. */
  richConflicts?: number;
  /** An extra rich require using `else`, `unless` or nested `and`/`or`. */
  richRequires?: number;
  /** Suggests, Supplements or Enhances on earlier names (they steer provider choice). */
  weak?: number;
  /** An extra version of the name. */
  extraVersions?: number;
  /** A require on the 32-bit soname of an earlier name with an i686 build (multilib, lock-step). */
  multilibDeps?: number;
}

export interface Corpus {
  primaryXml: string;
  filelistsXml: string;
  repomdXml: string;
  /** Every binary package name, for building requests. */
  names: string[];
}

/** Small deterministic xorshift generator in [0, 1). */
export function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Pkg {
  name: string;
  arch: string;
  ver: string;
  rel: string;
  pkgid: string;
  provides: string[];
  requires: string[];
  conflicts: string[];
  obsoletes: string[];
  recommends: string[];
  suggests: string[];
  supplements: string[];
  enhances: string[];
  files: string[];
}

const entry = (raw: string) => {
  const m = /^(\S+) (=|>=|<=|<|>) (\S+)$/.exec(raw);
  if (!m) return `<rpm:entry name="${esc(raw)}"/>`;
  const flags = { "=": "EQ", ">=": "GE", "<=": "LE", "<": "LT", ">": "GT" }[m[2] ?? "="];
  const [ver, rel] = (m[3] ?? "").split("-");
  return `<rpm:entry name="${esc(m[1] ?? "")}" flags="${flags}" epoch="0" ver="${ver}"${rel ? ` rel="${rel}"` : ""}/>`;
};

const depBlock = (tag: string, list: string[]) =>
  list.length ? `<rpm:${tag}>${list.map(entry).join("")}</rpm:${tag}>` : "";

export function generateCorpus(opts: CorpusOptions): Corpus {
  const rnd = prng(opts.seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const broken = opts.brokenRate ?? 0.01;
  const n = opts.packages;
  const names = Array.from({ length: Math.ceil(n / 1.5) }, (_, i) => `pkg${i.toString(36)}`);
  const isNoarch = names.map(() => rnd() < 0.3);
  const shape = opts.shape ?? {};
  const more = prng(opts.seed * 7919 + 13);
  const chance = (p: number | undefined) => p !== undefined && more() < p;
  const versionCount = names.map(() => 1 + (rnd() < 0.3 ? 1 : 0) + (rnd() < 0.1 ? 1 : 0));
  if (shape.extraVersions) {
    versionCount.forEach((c, i) => {
      if (chance(shape.extraVersions)) versionCount[i] = c + 1 + Math.floor(more() * 2);
    });
  }
  const hasVirt = (i: number) => i % 3 === 0;
  const pkgs: Pkg[] = [];
  const withI686: number[] = [];
  const depOn = (i: number): string => {
    if (i <= 0 || rnd() < broken) return `missing-cap${pick(1000)}`;
    let j = pick(i);
    const target = names[j] ?? "";
    const r = rnd();
    if (r < 0.35) return target;
    if (r < 0.5) return `${target} >= 1.${pick(versionCount[j] ?? 1)}`;
    if (r < 0.6) {
      j -= j % 3;
      return `virt${j % 97}`;
    }
    if (r < 0.7) return `/usr/bin/${target}`;
    if (r < 0.75) return `/usr/share/${target}/data`;
    if (r < 0.8) return isNoarch[j] ? target : `lib${target}.so.1()(64bit)`;
    if (r < 0.87) return `(${target} or ${names[pick(i)]})`;
    if (r < 0.92) return `(${target} if ${names[pick(i)]})`;
    if (r < 0.96) return `(${target} >= 1.0 and ${names[pick(i)]})`;
    return hasVirt(j) ? `(virt${j % 97} with ${target})` : `(${target} without missing-cap1)`;
  };
  names.forEach((name, i) => {
    const noarch = isNoarch[i] ?? false;
    const versions = versionCount[i] ?? 1;
    for (let v = 0; v < versions && pkgs.length < n; v++) {
      const ver = `1.${v}`;
      const arches = noarch ? ["noarch"] : rnd() < 0.15 ? ["x86_64", "i686"] : ["x86_64"];
      const requires = i === 0 ? [] : Array.from({ length: pick(5) }, () => depOn(i));
      // Conflicts/obsoletes point at later names (deps only point back), so
      // they bite only when a request names both sides.
      const later = () => names[Math.min(names.length - 1, i + 1 + pick(50))];
      const conflicts = rnd() < 0.02 ? [`${later()} < 1.1`] : [];
      const obsoletes = rnd() < 0.03 ? [`${later()} < 1.1`] : [];
      const recommends = rnd() < 0.1 && i > 0 ? [names[pick(i)] ?? ""] : [];
      const extra = i > 2 ? shaped(shape, i, names, versionCount, chance, more) : undefined;
      if (extra && withI686.length > 0 && chance(shape.multilibDeps)) {
        extra.requires.push(
          `lib${names[withI686[Math.floor(more() * withI686.length)] ?? 0]}.so.1`,
        );
      }
      if (arches.includes("i686") && withI686[withI686.length - 1] !== i) withI686.push(i);
      for (const arch of arches) {
        if (pkgs.length >= n) break;
        const suffix = arch === "i686" ? "" : "()(64bit)";
        pkgs.push({
          name,
          arch,
          ver,
          rel: "1",
          pkgid: `${opts.seed.toString(16)}f${pkgs.length.toString(16)}`.padStart(64, "0"),
          provides: [
            `${name} = ${ver}-1`,
            ...(hasVirt(i) ? [`virt${i % 97}`] : []),
            ...(arch === "noarch" ? [] : [`lib${name}.so.1${suffix}`]),
          ],
          requires: [...requires, ...(extra?.requires ?? [])],
          conflicts: [...conflicts, ...(extra?.conflicts ?? [])],
          obsoletes: [...obsoletes, ...(extra?.obsoletes ?? [])],
          recommends,
          suggests: extra?.suggests ?? [],
          supplements: extra?.supplements ?? [],
          enhances: extra?.enhances ?? [],
          files: [`/usr/bin/${name}`, `/usr/share/${name}/data`],
        });
      }
    }
  });
  return { ...repodataXml(pkgs, String(opts.seed), 1), names };
}

/** A package of `tinyRepo`: deps as `name [op evr]` strings (or rich deps), version `v`-1. */
export interface TinyPackage {
  n: string;
  v?: string;
  /** Arch, default x86_64. */
  a?: string;
  prov?: string[];
  req?: string[];
  con?: string[];
  obs?: string[];
  rec?: string[];
  sug?: string[];
  sup?: string[];
  enh?: string[];
  files?: string[];
}

/** Repodata of hand-written packages (every file in primary too). */
export function tinyRepo(specs: TinyPackage[]): Omit<Corpus, "names"> {
  const pkgs = specs.map(
    (t, i): Pkg => ({
      name: t.n,
      arch: t.a ?? "x86_64",
      ver: t.v ?? "1",
      rel: "1",
      pkgid: `${i.toString(16)}`.padStart(64, "0"),
      provides: [`${t.n} = ${t.v ?? "1"}-1`, ...(t.prov ?? [])],
      requires: t.req ?? [],
      conflicts: t.con ?? [],
      obsoletes: t.obs ?? [],
      recommends: t.rec ?? [],
      suggests: t.sug ?? [],
      supplements: t.sup ?? [],
      enhances: t.enh ?? [],
      files: t.files ?? [],
    }),
  );
  return repodataXml(pkgs, "tiny", Number.MAX_SAFE_INTEGER);
}

/** Writes repodata to a new temp dir; returns the dir and the primary/filelists paths. */
export function writeRepodata(repo: Omit<Corpus, "names">) {
  const dir = mkdtempSync(join(tmpdir(), "odcs-corpus-"));
  mkdirSync(join(dir, "repodata"));
  writeFileSync(join(dir, "repodata/repomd.xml"), repo.repomdXml);
  writeFileSync(join(dir, "repodata/primary.xml"), repo.primaryXml);
  writeFileSync(join(dir, "repodata/filelists.xml"), repo.filelistsXml);
  return {
    dir,
    primary: join(dir, "repodata/primary.xml"),
    filelists: join(dir, "repodata/filelists.xml"),
  };
}

/** primary/filelists/repomd XML; primary lists the first `primaryFiles` files of each package. */
function repodataXml(pkgs: Pkg[], revision: string, primaryFiles: number) {
  const primary = pkgs.map(
    (p) =>
      `<package type="rpm"><name>${p.name}</name><arch>${p.arch}</arch><version epoch="0" ver="${p.ver}" rel="${p.rel}"/><checksum type="sha256" pkgid="YES">${p.pkgid}</checksum><summary>synthetic &amp; small</summary><description><![CDATA[desc <${p.name}>]]></description><packager/><url/><time file="1" build="1"/><size package="1" installed="1" archive="1"/><location href="Packages/${p.name}-${p.ver}-${p.rel}.${p.arch}.rpm"/><format><rpm:license>MIT</rpm:license><rpm:sourcerpm>${p.name}-${p.ver}-${p.rel}.src.rpm</rpm:sourcerpm>${depBlock("provides", p.provides)}${depBlock("requires", p.requires)}${depBlock("conflicts", p.conflicts)}${depBlock("obsoletes", p.obsoletes)}${depBlock("suggests", p.suggests)}${depBlock("enhances", p.enhances)}${depBlock("recommends", p.recommends)}${depBlock("supplements", p.supplements)}${p.files
        .slice(0, primaryFiles)
        .map((f) => `<file>${esc(f)}</file>`)
        .join("")}</format></package>\n`,
  );
  const filelists = pkgs.map(
    (p) =>
      `<package pkgid="${p.pkgid}" name="${p.name}" arch="${p.arch}"><version epoch="0" ver="${p.ver}" rel="${p.rel}"/>${p.files.map((f) => `<file>${esc(f)}</file>`).join("")}</package>\n`,
  );
  return {
    primaryXml: `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${pkgs.length}">\n${primary.join("")}</metadata>\n`,
    filelistsXml: `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${pkgs.length}">\n${filelists.join("")}</filelists>\n`,
    repomdXml: `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>${revision}</revision><data type="primary"><location href="repodata/primary.xml"/></data><data type="filelists"><location href="repodata/filelists.xml"/></data></repomd>\n`,
  };
}

/** The `shape` extras of one package version (name index `i` > 2), drawn from `more`. */
function shaped(
  shape: CorpusShape,
  i: number,
  names: string[],
  versionCount: number[],
  chance: (p: number | undefined) => boolean,
  more: () => number,
) {
  const earlier = () => {
    const j = Math.floor(more() * i);
    return { name: names[j] ?? "", j };
  };
  const a = earlier();
  const b = earlier();
  const c = earlier();
  const ver = () => `1.${Math.floor(more() * (versionCount[a.j] ?? 1))}`;
  const out = {
    requires: [] as string[],
    conflicts: [] as string[],
    obsoletes: [] as string[],
    suggests: [] as string[],
    supplements: [] as string[],
    enhances: [] as string[],
  };
  if (chance(shape.backConflicts)) {
    // Mostly against the newest version of a name that has older ones, so
    // an older version (or another provider) still makes the request work.
    const multi = earlierWithVersions(i, versionCount, more);
    const newest = `1.${(versionCount[multi] ?? 1) - 1}`;
    const r = more();
    if (r < 0.45) out.conflicts.push(`${names[multi]} >= ${newest}`);
    else if (r < 0.65) out.obsoletes.push(`${names[multi]} >= ${newest}`);
    else if (r < 0.85) out.conflicts.push(`${a.name} < ${ver()}`);
    else out.conflicts.push(a.name);
  }
  if (chance(shape.richConflicts)) {
    const forms = [
      `(${a.name} and ${b.name})`,
      `(${a.name} or ${b.name})`,
      `(${a.name} if ${b.name})`,
      `(${a.name} if ${b.name} else ${c.name})`,
      `(${a.name} unless ${b.name})`,
      `(${a.name} >= ${ver()} and ${b.name})`,
      `(virt${(a.j - (a.j % 3)) % 97} with ${a.name})`,
      `((${a.name} or ${b.name}) and ${c.name})`,
    ];
    out.conflicts.push(forms[Math.floor(more() * forms.length)] ?? "");
  }
  if (chance(shape.richRequires)) {
    const forms = [
      `(${a.name} if ${b.name} else ${c.name})`,
      `(${a.name} unless ${b.name})`,
      `(${a.name} unless ${b.name} else ${c.name})`,
      `((${a.name} and ${b.name}) or ${c.name})`,
      `(${a.name} or (${b.name} and ${c.name}))`,
      `(${a.name} >= ${ver()} or /usr/bin/${b.name})`,
    ];
    out.requires.push(forms[Math.floor(more() * forms.length)] ?? "");
  }
  if (chance(shape.weak)) {
    const r = more();
    if (r < 0.4) out.suggests.push(a.name);
    else if (r < 0.7) out.supplements.push(more() < 0.5 ? a.name : `(${a.name} and ${b.name})`);
    else out.enhances.push(a.name);
  }
  return out;
}

/** An earlier name with several versions if one is found quickly, else any earlier one. */
function earlierWithVersions(i: number, versionCount: number[], more: () => number): number {
  let j = Math.floor(more() * i);
  for (let tries = 0; tries < 8 && (versionCount[j] ?? 1) < 2; tries++) j = Math.floor(more() * i);
  return j;
}
