import { rpmvercmp } from "./evr.ts";
import type { HeaderDep, RpmHeader } from "./header.ts";
import { SENSE } from "./header-tags.ts";
import type { Dep, DepFlag, PackageRecord } from "./types.ts";
import { emptyDepLists } from "./types.ts";

export type PrimaryDeps = Pick<
  PackageRecord,
  | "provides"
  | "requires"
  | "conflicts"
  | "obsoletes"
  | "suggests"
  | "enhances"
  | "recommends"
  | "supplements"
>;

/** createrepo_c `cr_flag_to_str`: only the comparison bits count. */
export function depFlagName(flags: number): DepFlag | undefined {
  switch (flags & 0xf) {
    case 2:
      return "LT";
    case 4:
      return "GT";
    case 8:
      return "EQ";
    case 10:
      return "LE";
    case 12:
      return "GE";
    default:
      return undefined;
  }
}

/** A primary file as yum defined it: under /etc/, any `bin/` in the path, or sendmail. */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith("/etc/") || path.includes("bin/") || path === "/usr/lib/sendmail";
}

interface ParsedEvr {
  epoch: string;
  ver: string;
  rel: string | undefined;
}

/** createrepo_c `cr_str_to_evr`; `undefined` for a non-numeric epoch (dependency is dropped). */
function parseDepEvr(full: string): ParsedEvr | undefined {
  const colon = full.indexOf(":");
  let epoch = "0";
  let rest = full;
  if (colon >= 0) {
    const e = full.slice(0, colon);
    if (!/^[+-]?\d+$/.test(e.trimStart())) return undefined;
    epoch = e;
    rest = full.slice(colon + 1);
  }
  const dash = rest.indexOf("-");
  if (dash < 0) return { epoch, ver: rest, rel: undefined };
  return { epoch, ver: rest.slice(0, dash), rel: rest.slice(dash + 1) || undefined };
}

/**
 * createrepo_c `cr_compare_dependency` on two `libc.so.6…` names: true when
 * `b` carries the higher symbol version (`libc.so.6(GLIBC_2.4)` > `(GLIBC_2.3.4)`).
 */
function isHigherLibc(a: string, b: string): boolean {
  const pa = a.indexOf("(");
  const pb = b.indexOf("(");
  if (pa < 0 && pb < 0) return false;
  if (pa < 0) return true;
  if (pb < 0) return false;
  const ea = a.indexOf(")", pa);
  const eb = b.indexOf(")", pb);
  if (ea < 0 && eb < 0) return false;
  if (ea < 0) return true;
  if (eb < 0) return false;
  if (ea === pa + 1 && eb === pb + 1) return false;
  if (ea === pa + 1) return true;
  if (eb === pb + 1) return false;
  const digitAt = (s: string, from: number) => {
    let i = from;
    while (i < s.length && !/[0-9]/.test(s.charAt(i))) i++;
    return i;
  };
  const va = digitAt(a, pa + 1);
  const vb = digitAt(b, pb + 1);
  if (va > ea && vb > eb) return false;
  if (va > ea) return true;
  if (vb > eb) return false;
  return rpmvercmp(a.slice(va, ea), b.slice(vb, eb)) === -1;
}

function toDep(d: HeaderDep, flag: DepFlag | undefined, evr: ParsedEvr | undefined): Dep {
  const dep: Dep = { name: d.name };
  if (!flag) return dep;
  dep.flags = flag;
  if (evr?.epoch) dep.epoch = evr.epoch;
  if (evr?.ver) dep.ver = evr.ver;
  if (evr?.rel) dep.rel = evr.rel;
  return dep;
}

const PRE_BITS = SENSE.PREREQ | SENSE.SCRIPT_PRE | SENSE.SCRIPT_POST;

/**
 * The dependency lists exactly as createrepo_c (0.17, legacy weak deps on)
 * writes them to primary.xml: `rpmlib(…)` requires, requires on the
 * package's own primary files, requires identical (name+flags+version) to
 * one of its provides, and repeated requires are dropped; only the highest
 * `libc.so.6(…)` require is kept (and moved last); MISSINGOK requires and
 * OLDSUGGESTS/OLDENHANCES become weak deps; entries with a non-numeric epoch
 * or an empty name are skipped; version attributes appear only with a flag.
 */
export function primaryDeps(h: RpmHeader): PrimaryDeps {
  const out: PrimaryDeps = emptyDepLists();
  const files = new Set(h.files.map((f) => f.path));
  const provided = new Set<string>();
  const seenRequires = new Map<
    string,
    { flag: DepFlag | undefined; version: string; pre: boolean }
  >();

  const lists: [keyof PrimaryDeps | "old-suggests" | "old-enhances", HeaderDep[]][] = [
    ["provides", h.provides],
    ["conflicts", h.conflicts],
    ["obsoletes", h.obsoletes],
    ["requires", h.requires],
    ["suggests", h.suggests],
    ["enhances", h.enhances],
    ["recommends", h.recommends],
    ["supplements", h.supplements],
    ["old-suggests", h.oldSuggests],
    ["old-enhances", h.oldEnhances],
  ];
  for (const [kind, list] of lists) {
    let libc: Dep | undefined;
    for (const d of list) {
      const flag = depFlagName(d.flags);
      const nfv = d.name + (flag ?? "") + d.version;
      let pre = false;
      if (kind === "requires") {
        if (d.name.startsWith("rpmlib(")) continue;
        if (d.name.startsWith("/") && files.has(d.name) && isPrimaryFile(d.name)) continue;
        if (provided.has(nfv)) continue;
        pre = (d.flags & PRE_BITS) !== 0;
        const seen = seenRequires.get(d.name);
        if (seen && seen.flag === flag && seen.version === d.version && seen.pre === pre) continue;
      }
      const evr = d.version ? parseDepEvr(d.version) : undefined;
      if (d.version && !evr) continue;
      const dep = toDep(d, flag, evr);
      const strong = (d.flags & SENSE.STRONG) !== 0;
      if (kind === "provides") provided.add(nfv);
      if (kind === "old-suggests") (strong ? out.recommends : out.suggests).push(dep);
      else if (kind === "old-enhances") (strong ? out.supplements : out.enhances).push(dep);
      else if (kind !== "requires") out[kind].push(dep);
      else if (d.flags & SENSE.MISSINGOK) out.recommends.push(dep);
      else {
        if (pre) dep.pre = true;
        if (d.name.startsWith("libc.so.6")) {
          if (!libc || isHigherLibc(libc.name, d.name)) libc = dep;
          continue;
        }
        out.requires.push(dep);
        seenRequires.set(d.name, { flag, version: d.version, pre });
      }
    }
    if (kind === "requires" && libc) out.requires.push(libc);
  }
  for (const k of Object.keys(out) as (keyof PrimaryDeps)[]) {
    out[k] = out[k].filter((d) => d.name !== "");
  }
  return out;
}
