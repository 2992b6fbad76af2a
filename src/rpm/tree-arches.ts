/**
 * Which package arches a tree arch installs, best first, following rpm's
 * and Pungi's arch tables: the native family, then (only with multilib) the
 * secondary arches. noarch is always allowed and handled by the solver.
 */
const NATIVE: Record<string, string[]> = {
  x86_64: ["x86_64", "amd64", "ia32e"],
  i686: ["i686", "athlon", "i586", "i486", "i386"],
  i386: ["i386"],
  aarch64: ["aarch64"],
  ppc64le: ["ppc64le"],
  ppc64: ["ppc64"],
  s390x: ["s390x"],
  armv7hl: ["armv7hl", "armv7hnl", "armv6hl"],
  armv7l: ["armv7l", "armv6l", "armv5tejl", "armv5tel", "armv5l", "armv4tl", "armv4l", "armv3l"],
};

const MULTILIB: Record<string, string[]> = {
  x86_64: ["athlon", "i686", "i586", "i486", "i386"],
  ppc64: ["ppc"],
  s390x: ["s390"],
};

export function nativeArches(treeArch: string): string[] {
  return NATIVE[treeArch] ?? [treeArch];
}

export function multilibArchesOf(treeArch: string): string[] {
  return MULTILIB[treeArch] ?? [];
}
