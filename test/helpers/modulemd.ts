/**
 * modulemd test documents, and libmodulemd (python3-gi +
 * gir1.2-modulemd-2.0, the system interpreter) as the oracle of what a
 * modules.yaml says.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./db.ts";

const run = promisify(execFile);

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
  const { stdout } = await run("/usr/bin/python3", ["-c", script, path]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof readWithLibmodulemd>>;
}
