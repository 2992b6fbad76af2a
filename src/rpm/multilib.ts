/**
 * Which secondary-arch packages a compose adds next to native ones
 * (x86_64 → i686 …), as Pungi's DNF gather decides with python-multilib
 * (`multilib_dnf.py` + `multilib/multilib.py`, `conf/multilib.conf`).
 *
 * The test runs on the *candidate* (the secondary-arch package) and needs
 * its full file list (filelists), not the primary subset.
 */
import type { PackageRecord } from "./types.ts";

export const MULTILIB_METHODS = ["none", "all", "runtime", "devel"] as const;
export type MultilibMethod = (typeof MULTILIB_METHODS)[number];

export type MultilibPackage = Pick<PackageRecord, "name" | "arch" | "files" | "provides">;

export interface MultilibLists {
  /** Name globs never taken (Pungi `multilib_blacklist`), checked first. */
  blacklist?: readonly string[];
  /** Name globs always taken (Pungi `multilib_whitelist`). */
  whitelist?: readonly string[];
}

/**
 * Name globs per tree arch, `"*"` for every arch: Pungi's
 * `multilib_blacklist` / `multilib_whitelist` for our one variant.
 */
export type MultilibGlobsByArch = Readonly<Record<string, readonly string[]>>;

/**
 * The lists that apply to `treeArch`: its own globs plus the `"*"` ones,
 * as Pungi's `get_arch_variant_data` merges them.
 */
export function multilibListsFor(
  treeArch: string,
  blacklist: MultilibGlobsByArch,
  whitelist: MultilibGlobsByArch,
): MultilibLists {
  const pick = (byArch: MultilibGlobsByArch) => [
    ...(byArch["*"] ?? []),
    ...(byArch[treeArch] ?? []),
  ];
  return { blacklist: pick(blacklist), whitelist: pick(whitelist) };
}

const SECONDARY: Record<string, readonly string[]> = {
  x86_64: ["athlon", "i686", "i586", "i486", "i386"],
  ppc64: ["ppc"],
  s390x: ["s390"],
};

/** Secondary (multilib) arches of a tree arch; empty for aarch64, ppc64le and the rest. */
export function secondaryArches(treeArch: string): readonly string[] {
  return SECONDARY[treeArch] ?? [];
}

/** ODCS `multilib_method` bitmask (1 runtime, 2 devel, 4 all) → Pungi method list. */
export function multilibMethodsFromBitmask(mask: number): MultilibMethod[] {
  const out: MultilibMethod[] = [];
  if (mask & 1) out.push("runtime");
  if (mask & 2) out.push("devel");
  if (mask & 4) out.push("all");
  return out;
}

/** python-multilib `conf/multilib.conf`. */
export const RUNTIME_WHITELIST: ReadonlySet<string> = new Set([
  "libflashsupport",
  "libgnat",
  "lmms-vst",
  "nspluginwrapper",
  "perl-libs",
  "redhat-lsb",
  "syslinux-extlinux-nonlinux",
  "syslinux-nonlinux",
  "syslinux-tftpboot",
  "valgrind",
  "wine",
  "yaboot",
]);
export const RUNTIME_BLACKLIST: ReadonlySet<string> = new Set(["httpd", "php", "tomcat-native"]);
export const DEVEL_BLACKLIST: ReadonlySet<string> = new Set([
  "dmraid-devel",
  "httpd-devel",
  "kdeutils-devel",
  "mkinitrd-devel",
  "java-1.5.0-gcj-devel",
  "java-1.6.0-openjdk-devel",
  "java-1.7.0-icedtea-devel",
  "java-1.7.0-openjdk-devel",
  "java-1.8.0-openjdk-devel",
  "php-devel",
]);
const PREFER_64 = new Set(["gdb", "frysk", "systemtap", "systemtap-runtime", "ltrace", "strace"]);

const ROOT_LIB = new Set(["/lib", "/lib64"]);
const LIB_DIRS = new Set(["/lib", "/lib64", "/usr/lib", "/usr/lib64"]);
const PLUGIN_DIRS = new Set([
  ...["/usr/lib", "/usr/lib64"].flatMap((l) =>
    [
      "alsa-lib",
      "dri",
      "gtk-2.0/modules",
      "gtk-2.0/immodules",
      "krb5/plugins",
      "sasl2",
      "vdpau",
    ].map((p) => `${l}/${p}`),
  ),
  "/lib/security",
  "/lib64/security",
  "/etc/lsb-release.d",
]);

/** Python `fnmatch` (case-sensitive, as on POSIX) compiled to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

const globCache = new Map<string, RegExp>();
const fnmatch = (s: string, glob: string) => {
  let re = globCache.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    globCache.set(glob, re);
  }
  return re.test(s);
};

/** python-multilib's file rules (`RuntimeMultilibMethod.select`, after the name checks). */
function hasRuntimeFile(pkg: MultilibPackage): boolean {
  for (const { path } of pkg.files) {
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash);
    const file = path.slice(slash + 1);
    if (LIB_DIRS.has(dir) && fnmatch(file, "*.so.*")) return true;
    if (PLUGIN_DIRS.has(dir)) return true;
    if (dir === "/etc/ld.so.conf.d" && file.endsWith(".conf")) return true;
    if (ROOT_LIB.has(dir) && (file.startsWith("libnss_") || file.startsWith("libdb-"))) return true;
    if (!dir.startsWith("/usr/lib")) continue;
    if (dir.startsWith("/usr/lib/gtk-2.0") || dir.startsWith("/usr/lib64/gtk-2.0")) {
      const gtk = ["engines", "modules", "immodules", "loaders", "printbackends", "filesystems"];
      if (gtk.some((g) => fnmatch(dir, `/usr/lib*/gtk-2.0/*/${g}`))) return true;
      continue;
    }
    if (dir.startsWith("/usr/lib/gstreamer-") || dir.startsWith("/usr/lib64/gstreamer-"))
      return true;
    const pluginGlobs = [
      "/usr/lib*/qt*/plugins/*",
      "/usr/lib*/kde*/plugins/*",
      "/usr/lib*/qt5/qml/*",
      "/usr/lib*/gdk-pixbuf-2.0/*/loaders",
      "/usr/lib*/xine/plugins/*",
    ];
    if (pluginGlobs.some((g) => fnmatch(dir, g))) return true;
    const under = (name: string) => dir === `/usr/lib/${name}` || dir === `/usr/lib64/${name}`;
    if (under("oprofile") && fnmatch(file, "*.so.*")) return true;
    if (under("wine") && file.endsWith(".so")) return true;
    if (under("sane") && file.startsWith("libsane-")) return true;
  }
  return false;
}

const provideNames = (pkg: MultilibPackage) => pkg.provides.map((p) => p.name);

/** python-multilib `MultilibMethod.select` (the base rule both methods start from). */
function baseSelect(pkg: MultilibPackage): boolean {
  if (!pkg.arch.includes("64")) return false;
  if (PREFER_64.has(pkg.name)) return true;
  return (
    pkg.name.startsWith("kernel") &&
    provideNames(pkg).some((n) => n === "kernel" || n === "kernel-devel")
  );
}

function runtimeSelect(pkg: MultilibPackage): boolean {
  if (RUNTIME_BLACKLIST.has(pkg.name)) return false;
  if (RUNTIME_WHITELIST.has(pkg.name)) return true;
  if (baseSelect(pkg)) return true;
  if (pkg.name.startsWith("kernel") && provideNames(pkg).includes("kernel")) return false;
  return hasRuntimeFile(pkg);
}

function develSelect(pkg: MultilibPackage): boolean {
  if (DEVEL_BLACKLIST.has(pkg.name)) return false;
  if (runtimeSelect(pkg)) return true;
  if (pkg.name.startsWith("ghc-")) return false;
  if (pkg.name.startsWith("kernel")) {
    for (const n of provideNames(pkg)) {
      if (n === "kernel-devel") return false;
      if (n.endsWith("-devel") || n.endsWith("-static")) return true;
    }
  }
  return pkg.name.endsWith("-devel") || pkg.name.endsWith("-static");
}

/** Debuginfo/debugsource packages, which never take part in multilib. */
export function isDebugPackage(name: string): boolean {
  return (
    name.endsWith("-debuginfo") || name.includes("-debuginfo-") || name.endsWith("-debugsource")
  );
}

/**
 * Why Pungi would add this secondary-arch package: `"whitelist"` or the
 * first accepting method; `undefined` when it is not a multilib candidate
 * (noarch, src/nosrc, debuginfo, blacklisted, or no method accepts it).
 * The caller checks that its arch is a secondary arch of the tree and that a
 * native package of the same name-version-release was selected.
 */
export function multilibReason(
  pkg: MultilibPackage,
  methods: readonly MultilibMethod[],
  lists: MultilibLists = {},
): "whitelist" | MultilibMethod | undefined {
  if (pkg.arch === "noarch" || pkg.arch === "src" || pkg.arch === "nosrc") return undefined;
  if (isDebugPackage(pkg.name)) return undefined;
  if (lists.blacklist?.some((g) => fnmatch(pkg.name, g))) return undefined;
  if (lists.whitelist?.some((g) => fnmatch(pkg.name, g))) return "whitelist";
  for (const m of methods) {
    if (m === "all") return m;
    if (m === "runtime" && runtimeSelect(pkg)) return m;
    if (m === "devel" && develSelect(pkg)) return m;
  }
  return undefined;
}

/** {@link multilibReason} as a yes/no. */
export function isMultilibCandidate(
  pkg: MultilibPackage,
  methods: readonly MultilibMethod[],
  lists: MultilibLists = {},
): boolean {
  return multilibReason(pkg, methods, lists) !== undefined;
}
