/**
 * modulemd v2 documents for tests (reference/modules.md §4), and
 * libmodulemd as the oracle that they are real modulemd: `readModulemd`
 * loads YAML into a `Modulemd.ModuleIndex` (strict) through the system
 * python's GObject bindings (`gir1.2-modulemd-2.0`, `python3-gi`) and
 * reports what libmodulemd read.
 *
 *   const doc = modulemdV2({ name: "nodejs", stream: "18", version: "8090020231219110341",
 *     context: "a75119d5", requires: { platform: ["el8"] }, rpms: ["nodejs-1:18.1-1.module+el8.x86_64"] });
 *   (await readModulemd(doc)).streams  // [{ nsvc: "nodejs:18:8090020231219110341:a75119d5", … }]
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { tempDir } from "./db.ts";

const execFileP = promisify(execFile);

export interface ModulemdSpec {
  name: string;
  stream: string;
  /** Digits (may exceed 2^53). */
  version: string;
  context: string;
  /** Set in per-arch documents. */
  arch?: string;
  summary?: string;
  /** Runtime requirements: module → streams (`[]` any). */
  requires?: Record<string, string[]>;
  buildrequires?: Record<string, string[]>;
  /** Several `dependencies` entries instead of one from requires/buildrequires. */
  dependencies?: {
    requires?: Record<string, string[]>;
    buildrequires?: Record<string, string[]>;
  }[];
  /** `artifacts.rpms` NEVRAs (`name-epoch:version-release.arch`). */
  rpms?: string[];
  /** `components.rpms` names (default: the names of `rpms`' source-less binaries). */
  components?: string[];
  profiles?: Record<string, string[]>;
  /** Free-form `xmd` (MBS puts its data under `xmd.mbs`). */
  xmd?: Record<string, unknown>;
}

/** The package name of a NEVRA `name-epoch:version-release.arch`. */
export const nevraName = (nevra: string) => nevra.replace(/-[^-]+-[^-]+$/, "");

/** A modulemd v2 document (one YAML document, `---` … `...`). */
export function modulemdV2(s: ModulemdSpec): string {
  const deps =
    s.dependencies ??
    (s.requires || s.buildrequires
      ? [
          {
            ...(s.buildrequires ? { buildrequires: s.buildrequires } : {}),
            ...(s.requires ? { requires: s.requires } : {}),
          },
        ]
      : []);
  const components = s.components ?? [...new Set((s.rpms ?? []).map(nevraName))].sort();
  const data: Record<string, unknown> = {
    name: s.name,
    stream: s.stream,
    // A YAML integer: libmodulemd requires one (64-bit).
    version: BigInt(s.version),
    context: s.context,
    ...(s.arch ? { arch: s.arch } : {}),
    summary: s.summary ?? `The ${s.name} module`,
    description: `The ${s.name}:${s.stream} module stream, made for tests.`,
    license: { module: ["MIT"] },
    ...(s.xmd ? { xmd: s.xmd } : {}),
    ...(deps.length ? { dependencies: deps } : {}),
    ...(s.profiles
      ? {
          profiles: Object.fromEntries(
            Object.entries(s.profiles).map(([p, rpms]) => [p, { rpms }]),
          ),
        }
      : {}),
    ...(components.length
      ? {
          components: {
            rpms: Object.fromEntries(
              components.map((c, i) => [c, { rationale: "Part of the module", buildorder: i }]),
            ),
          },
        }
      : {}),
    ...(s.rpms?.length ? { artifacts: { rpms: [...s.rpms].sort() } } : {}),
  };
  return `---\n${stringify({ document: "modulemd", version: 2, data })}...\n`;
}

export interface ReadStream {
  nsvc: string;
  arch: string | null;
  rpms: string[];
  /** Runtime requirements per dependencies entry. */
  requires: Record<string, string[]>[];
}

const SCRIPT = `
import json, sys
import gi
gi.require_version("Modulemd", "2.0")
from gi.repository import Modulemd
text = sys.stdin.read()
idx = Modulemd.ModuleIndex.new()
ok, failures = idx.update_from_string(text, True)
if not ok or failures:
    print(json.dumps({"error": "; ".join(f.get_gerror().message for f in (failures or []))}))
    sys.exit(0)
out = []
for name in idx.get_module_names():
    for s in idx.get_module(name).get_all_streams():
        reqs = []
        for d in s.get_dependencies():
            reqs.append({m: list(d.get_runtime_streams(m)) for m in d.get_runtime_modules()})
        out.append({"nsvc": s.get_nsvc(), "arch": s.get_arch(), "rpms": sorted(s.get_rpm_artifacts()), "requires": reqs})
print(json.dumps({"streams": out}))
`;

/** What libmodulemd (strict) reads from `yaml`; throws with its message when it refuses it. */
export async function readModulemd(yaml: string): Promise<{ streams: ReadStream[] }> {
  const child = execFileP("/usr/bin/python3", ["-c", SCRIPT], { maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin?.end(yaml);
  const { stdout } = await child;
  const r = JSON.parse(stdout) as { error?: string; streams?: ReadStream[] };
  if (r.error !== undefined) throw new Error(`libmodulemd refuses the document: ${r.error}`);
  return { streams: r.streams ?? [] };
}

/** A modulemd v2 document (requires platform:el8, one `default` profile). */
export function modulemdDoc(o: {
  name: string;
  stream: string;
  version: string;
  context: string;
  arch?: string;
  rpms: string[];
  profile?: string[];
}): string {
  return [
    "---",
    "document: modulemd",
    "version: 2",
    "data:",
    `  name: ${o.name}`,
    `  stream: "${o.stream}"`,
    `  version: ${o.version}`,
    `  context: ${o.context}`,
    ...(o.arch ? [`  arch: ${o.arch}`] : []),
    `  summary: ${o.name} module`,
    "  description: >-",
    `    The ${o.name} module.`,
    "  license:",
    "    module: [MIT]",
    "  dependencies:",
    "  - buildrequires:",
    "      platform: [el8]",
    "    requires:",
    "      platform: [el8]",
    "  profiles:",
    "    default:",
    `      rpms: [${(o.profile ?? []).join(", ")}]`,
    "  artifacts:",
    "    rpms:",
    ...o.rpms.map((r) => `    - ${r}`),
    "...",
    "",
  ].join("\n");
}

/** What libmodulemd reads from a modules.yaml: streams with their arch and artifacts, defaults. */
export async function readWithLibmodulemd(text: string): Promise<{
  streams: { nsvc: string; arch: string; rpms: string[] }[];
  defaults: Record<string, string>;
}> {
  const path = join(tempDir("odcs-modulemd-"), "modules.yaml");
  await writeFile(path, text);
  const script = `
import json, sys, gi
gi.require_version("Modulemd", "2.0")
from gi.repository import Modulemd
idx = Modulemd.ModuleIndex.new()
ok, failures = idx.update_from_file(sys.argv[1], True)
if not ok or failures:
    sys.exit("libmodulemd: " + "; ".join(f.get_gerror().message for f in failures))
out = {"streams": [], "defaults": {}}
for name in idx.get_module_names():
    m = idx.get_module(name)
    for s in m.get_all_streams():
        out["streams"].append({"nsvc": s.get_nsvc(), "arch": s.props.arch, "rpms": sorted(s.get_rpm_artifacts())})
    d = m.get_defaults()
    if d is not None:
        out["defaults"][name] = d.get_default_stream()
out["streams"].sort(key=lambda s: s["nsvc"])
print(json.dumps(out))
`;
  const { stdout } = await execFileP("/usr/bin/python3", ["-c", script, path]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof readWithLibmodulemd>>;
}
