/** Module identities: NSVC strings and the Koji build NVR of a module. */

export interface ModuleId {
  name: string;
  stream: string;
  version: string;
  context: string;
}

/** `"n:s:v:c"`. */
export const nsvcOf = (m: ModuleId) => `${m.name}:${m.stream}:${m.version}:${m.context}`;

/** The Koji build NVR of a module: `<name>-<stream with - as _>-<version>.<context>`. */
export const moduleNvr = (m: ModuleId) =>
  `${m.name}-${m.stream.replace(/-/g, "_")}-${m.version}.${m.context}`;

/** Compares digit strings as numbers (module versions exceed 2^53). */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(/^\d+$/.test(a) ? a : "0");
  const y = BigInt(/^\d+$/.test(b) ? b : "0");
  return x < y ? -1 : x > y ? 1 : 0;
}
