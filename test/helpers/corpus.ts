/**
 * Deterministic synthetic repodata for depsolver tests and benchmarks:
 * primary.xml + filelists.xml + repomd.xml text with versioned deps, file
 * deps (primary and filelists-only paths), rich deps, several versions per
 * name, noarch, multilib (i686) copies, obsoletes, conflicts and virtual
 * provides. Same seed → same bytes.
 */

export interface CorpusOptions {
  packages: number;
  seed: number;
  /** Share of requires that nothing provides (0..1). Default 0.01. */
  brokenRate?: number;
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
  const versionCount = names.map(() => 1 + (rnd() < 0.3 ? 1 : 0) + (rnd() < 0.1 ? 1 : 0));
  const hasVirt = (i: number) => i % 3 === 0;
  const pkgs: Pkg[] = [];
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
          requires,
          conflicts,
          obsoletes,
          recommends,
          files: [`/usr/bin/${name}`, `/usr/share/${name}/data`],
        });
      }
    }
  });
  const primary = pkgs.map(
    (p) =>
      `<package type="rpm"><name>${p.name}</name><arch>${p.arch}</arch><version epoch="0" ver="${p.ver}" rel="${p.rel}"/><checksum type="sha256" pkgid="YES">${p.pkgid}</checksum><summary>synthetic &amp; small</summary><description><![CDATA[desc <${p.name}>]]></description><packager/><url/><time file="1" build="1"/><size package="1" installed="1" archive="1"/><location href="Packages/${p.name}-${p.ver}-${p.rel}.${p.arch}.rpm"/><format><rpm:license>MIT</rpm:license><rpm:sourcerpm>${p.name}-${p.ver}-${p.rel}.src.rpm</rpm:sourcerpm>${depBlock("provides", p.provides)}${depBlock("requires", p.requires)}${depBlock("conflicts", p.conflicts)}${depBlock("obsoletes", p.obsoletes)}${depBlock("recommends", p.recommends)}<file>${p.files[0]}</file></format></package>\n`,
  );
  const filelists = pkgs.map(
    (p) =>
      `<package pkgid="${p.pkgid}" name="${p.name}" arch="${p.arch}"><version epoch="0" ver="${p.ver}" rel="${p.rel}"/>${p.files.map((f) => `<file>${f}</file>`).join("")}</package>\n`,
  );
  return {
    primaryXml: `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${pkgs.length}">\n${primary.join("")}</metadata>\n`,
    filelistsXml: `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${pkgs.length}">\n${filelists.join("")}</filelists>\n`,
    repomdXml: `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>${opts.seed}</revision><data type="primary"><location href="repodata/primary.xml"/></data><data type="filelists"><location href="repodata/filelists.xml"/></data></repomd>\n`,
    names,
  };
}
