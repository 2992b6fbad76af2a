/**
 * Interim multilib test (python-multilib semantics, simplified) until
 * `multilib.ts` lands: `all` takes everything, `devel` takes -devel/-static
 * packages and whatever `runtime` takes, `runtime` takes packages shipping
 * shared libraries or plugins in lib dirs. noarch, src and debuginfo never.
 */
import type { PackageRecord } from "./types.ts";

const RUNTIME_FILE =
  /^\/(usr\/)?lib(64)?\/([^/]+\.so\.[^/]*|security\/[^/]+\.so|[^/]*(dri|sasl2|krb5\/plugins|alsa-lib|vdpau|gstreamer-[^/]+)\/[^/]+)$|^\/etc\/ld\.so\.conf\.d\/[^/]+\.conf$/;

export function acceptsMultilib(p: PackageRecord, methods: string[]): boolean {
  if (p.arch === "noarch" || p.arch === "src" || /-debug(info|source)$/.test(p.name)) return false;
  if (methods.includes("all")) return true;
  const runtime = () => p.files.some((f) => RUNTIME_FILE.test(f.path));
  if (methods.includes("devel") && (/-(devel|static)$/.test(p.name) || runtime())) return true;
  return methods.includes("runtime") && !p.name.startsWith("kernel") && runtime();
}
