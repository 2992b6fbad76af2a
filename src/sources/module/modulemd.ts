/**
 * The parts of a modulemd document resolution reads (reference/modules.md
 * §4): identity, runtime `requires`, `artifacts.rpms`. v1 documents are read
 * as if upgraded to v2 (their `dependencies.requires` is one map of
 * name → stream). Versions are integers past 2^53, so YAML integers are
 * read as BigInt and kept as digit strings.
 */

import { parseAllDocuments, stringify } from "yaml";
import { ComposeError } from "../errors.ts";

export interface ModulemdInfo {
  name: string;
  stream: string;
  version: string;
  context: string;
  /** One map per `dependencies` entry: module name → streams (`[]` = any stream). */
  requires: Record<string, string[]>[];
  /** `artifacts.rpms`, sorted. */
  rpms: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const scalar = (v: unknown): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? String(v) : "";

/** The `modulemd` documents of a YAML stream, parsed (BigInt integers); others skipped. */
function modulemdDocs(text: string, what: string): Obj[] {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { intAsBigInt: true });
  } catch (err) {
    throw new ComposeError(`${what} is not YAML: ${(err as Error).message}`);
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Obj[] = [];
  for (const d of list) {
    if (d.errors.length > 0)
      throw new ComposeError(`${what} is not valid YAML: ${d.errors[0]?.message ?? ""}`);
    const v = d.toJS() as unknown;
    if (isObj(v) && v.document === "modulemd") out.push(v);
  }
  return out;
}

function requiresOf(data: Obj, mdVersion: number): Record<string, string[]>[] {
  const deps = data.dependencies;
  if (mdVersion === 1) {
    // v1: {buildrequires: {n: s}, requires: {n: s}} → one v2 entry.
    const req = isObj(deps) && isObj(deps.requires) ? deps.requires : {};
    return [Object.fromEntries(Object.entries(req).map(([n, s]) => [n, [scalar(s)]]))];
  }
  if (!Array.isArray(deps)) return [];
  return deps.map((d) => {
    const req = isObj(d) && isObj(d.requires) ? d.requires : {};
    return Object.fromEntries(
      Object.entries(req).map(([n, s]) => [
        n,
        Array.isArray(s) ? s.map(scalar) : s == null ? [] : [scalar(s)],
      ]),
    );
  });
}

/** The first modulemd document of `text`; `what` names it in errors. */
export function parseModulemd(text: string, what: string): ModulemdInfo {
  const doc = modulemdDocs(text, what)[0];
  if (!doc) throw new ComposeError(`${what} holds no modulemd document`);
  const mdVersion = Number(scalar(doc.version));
  if (mdVersion !== 1 && mdVersion !== 2)
    throw new ComposeError(`${what} is modulemd version ${scalar(doc.version)}, not 1 or 2`);
  const data = isObj(doc.data) ? doc.data : {};
  const artifacts = isObj(data.artifacts) ? data.artifacts : {};
  const rpms = Array.isArray(artifacts.rpms) ? artifacts.rpms.map(scalar).filter(Boolean) : [];
  return {
    name: scalar(data.name),
    stream: scalar(data.stream),
    version: scalar(data.version),
    context: scalar(data.context),
    requires: requiresOf(data, mdVersion),
    rpms: [...new Set(rpms)].sort(),
  };
}

/**
 * The modulemd of a `-devel` module made from its non-devel module's
 * (ODCS's MBS rule): renamed to `develName`, and every `dependencies`
 * entry (or a new one, when there is none) requires the non-devel
 * `name:stream`. Written as v2.
 */
export function develModulemd(
  text: string,
  what: string,
  develName: string,
  base: { name: string; stream: string },
): string {
  const doc = modulemdDocs(text, what)[0];
  if (!doc) throw new ComposeError(`${what} holds no modulemd document`);
  const data = isObj(doc.data) ? { ...doc.data } : {};
  const mdVersion = Number(scalar(doc.version));
  let deps: Obj[];
  if (mdVersion === 1) {
    const v1 = isObj(data.dependencies) ? data.dependencies : {};
    const toV2 = (m: unknown) =>
      Object.fromEntries(Object.entries(isObj(m) ? m : {}).map(([n, s]) => [n, [scalar(s)]]));
    deps = [{ buildrequires: toV2(v1.buildrequires), requires: toV2(v1.requires) }];
  } else {
    deps = Array.isArray(data.dependencies)
      ? data.dependencies.filter(isObj).map((d) => ({ ...d }))
      : [];
  }
  if (deps.length === 0) deps.push({});
  for (const d of deps)
    d.requires = { ...(isObj(d.requires) ? d.requires : {}), [base.name]: [base.stream] };
  data.name = develName;
  data.dependencies = deps;
  return `---\n${stringify({ document: "modulemd", version: 2, data })}...\n`;
}
