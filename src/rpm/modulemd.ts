/**
 * modulemd v2 documents and the `modules.yaml` stream of a repository
 * (reference/modules.md §4–§5): what a module stream's RPMs are per arch
 * (`data.artifacts.rpms`), its arch-specific document, and the stream of
 * documents (module streams, then `modulemd-defaults`) written into an
 * arch repo's repodata. Pure: text in, text out.
 */

import { isMap, isSeq, parseAllDocuments, parseDocument } from "yaml";

/**
 * Documents are read with YAML's failsafe schema (every scalar a string)
 * and written back from the same nodes: a context of digits (`00000000`)
 * or a version past 2^53 must come out exactly as it went in, which a
 * round trip through numbers would break.
 */
const READ = { schema: "failsafe" } as const;

export class ModulemdError extends Error {
  override name = "ModulemdError";
}

/** A module stream as the modules.yaml writer needs it. */
export interface ModuleStreamDoc {
  /** `name:stream:version:context`. */
  nsvc: string;
  /** The stream's modulemd (v2) as built: all arches. */
  modulemd: string;
  /** The arch-specific modulemd per RPM tree arch, when the build system gave them (Koji archives). */
  archModulemd?: Readonly<Record<string, string>>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The one document of `text`, as plain data; throws `ModulemdError` naming `what`. */
function parseOne(text: string, what: string): Obj {
  const docs = parseAllDocuments(text, READ);
  if (!Array.isArray(docs) || docs.length !== 1)
    throw new ModulemdError(`${what}: expected one YAML document`);
  const [doc] = docs;
  if (!doc || doc.errors.length > 0)
    throw new ModulemdError(`${what}: ${doc?.errors[0]?.message ?? "no document"}`);
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObj(data)) throw new ModulemdError(`${what}: not a YAML mapping`);
  return data;
}

/** `data` of a modulemd v2 document; throws unless it is one. */
function modulemdData(text: string, what: string): Obj {
  const doc = parseOne(text, what);
  // Version 1 (old MBS builds) has the same identity and artifacts; libmodulemd upgrades it.
  if (doc.document !== "modulemd" || !["1", "2"].includes(String(doc.version)) || !isObj(doc.data))
    throw new ModulemdError(`${what}: not a modulemd version 2 (or 1) document`);
  return doc.data;
}

/** `data.artifacts.rpms` of a modulemd v2 document: RPM NEVRAs (`name-epoch:version-release.arch`). */
export function modulemdArtifacts(text: string, what = "modulemd"): string[] {
  const data = modulemdData(text, what);
  const artifacts = isObj(data.artifacts) ? data.artifacts : {};
  const rpms = artifacts.rpms ?? [];
  if (!Array.isArray(rpms) || rpms.some((r) => typeof r !== "string"))
    throw new ModulemdError(`${what}: artifacts.rpms is not a list of NEVRAs`);
  return rpms as string[];
}

export interface Nevra {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}

/**
 * `name-[epoch:]version-release.arch` as modulemd lists artifacts (productmd's
 * `parse_nvra`: arch after the last dot, release after the last dash before
 * it, version after the dash before that); `undefined` when malformed.
 */
export function parseNevra(s: string): Nevra | undefined {
  const m = /^(.+)-(?:(\d+):)?([^-:]+)-([^-]+)\.([^.-]+)$/.exec(s.replace(/\.rpm$/, ""));
  if (!m) return undefined;
  const [, name = "", epoch = "0", version = "", release = "", arch = ""] = m;
  return { name, epoch, version, release, arch };
}

/** `name-epoch:version-release.arch` with the epoch always given (how modulemd and productmd write NEVRAs). */
export const formatNevra = (n: Nevra) =>
  `${n.name}-${n.epoch || "0"}:${n.version}-${n.release}.${n.arch}`;

/**
 * The RPM arches whose packages a tree arch's repo holds: the arch itself
 * and noarch. (Multilib is not part of module composes: Pungi's module
 * gather takes the arch's own artifacts.)
 */
function belongsToTree(rpmArch: string, treeArch: string, families: readonly string[]): boolean {
  return rpmArch === "noarch" || rpmArch === treeArch || families.includes(rpmArch);
}

/**
 * The stream's modulemd for `treeArch`: the build system's arch-specific
 * document when there is one, verbatim; else the general document with
 * `arch` set and `artifacts.rpms` cut to that arch's RPMs (the arch's
 * own families and noarch; source RPMs are kept, as MBS keeps them).
 */
export function archModulemdText(
  m: ModuleStreamDoc,
  treeArch: string,
  families: readonly string[] = [treeArch],
): string {
  const given = m.archModulemd?.[treeArch];
  if (given !== undefined) {
    modulemdData(given, `modulemd of ${m.nsvc} for ${treeArch}`);
    return given;
  }
  const doc = parseDocument(m.modulemd, READ);
  if (doc.errors.length > 0)
    throw new ModulemdError(`modulemd of ${m.nsvc}: ${doc.errors[0]?.message ?? ""}`);
  modulemdData(m.modulemd, `modulemd of ${m.nsvc}`);
  const data = doc.get("data");
  if (!isMap(data)) throw new ModulemdError(`modulemd of ${m.nsvc}: data is not a mapping`);
  data.set("arch", treeArch);
  const rpms = doc.getIn(["data", "artifacts", "rpms"]);
  if (isSeq(rpms)) {
    rpms.items = rpms.items.filter((item) => {
      const nevra = parseNevra(String((item as { value?: unknown }).value ?? item));
      return (
        nevra !== undefined &&
        (nevra.arch === "src" || belongsToTree(nevra.arch, treeArch, families))
      );
    });
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * `text` (a modulemd document) with `arch` set and `artifacts.rpms`
 * replaced by `nevras`: the document of a stream whose RPMs are decided by
 * the compose (a `-devel` module: its content tag minus its non-devel
 * module's artifacts).
 */
export function withArtifacts(text: string, arch: string, nevras: readonly string[]): string {
  modulemdData(text, "modulemd");
  const doc = parseDocument(text, READ);
  const data = doc.get("data");
  if (!isMap(data)) throw new ModulemdError("modulemd: data is not a mapping");
  data.set("arch", arch);
  doc.setIn(["data", "artifacts", "rpms"], doc.createNode([...nevras]));
  return doc.toString({ lineWidth: 0 });
}

/** The NEVRAs of `treeArch`'s RPMs of a module stream (its arch document's artifacts, minus sources). */
export function archArtifacts(
  m: ModuleStreamDoc,
  treeArch: string,
  families: readonly string[] = [treeArch],
): string[] {
  return modulemdArtifacts(archModulemdText(m, treeArch, families), `modulemd of ${m.nsvc}`).filter(
    (n) => !n.endsWith(".src") && !n.endsWith(".nosrc"),
  );
}

/** One document of a stream: starts with `---`, ends with `...` and a newline. */
function framed(text: string): string {
  let body = text.replace(/^\uFEFF/, "").trimEnd();
  body = body.replace(/\n\.\.\.$/, "").replace(/^\.\.\.$/, "");
  if (!body.startsWith("---")) body = `---\n${body}`;
  return `${body}\n...\n`;
}

/** `document` + `data.module` of a `modulemd-defaults` document, or `undefined` for any other document. */
export function defaultsModuleName(text: string): string | undefined {
  let doc: Obj;
  try {
    doc = parseOne(text, "defaults");
  } catch {
    return undefined;
  }
  if (doc.document !== "modulemd-defaults" || !isObj(doc.data)) return undefined;
  return typeof doc.data.module === "string" ? doc.data.module : undefined;
}

/**
 * Split a YAML stream (a file of a module defaults repository) into its
 * `modulemd-defaults` documents, each as text; other documents are skipped.
 */
export function defaultsDocuments(text: string): { module: string; text: string }[] {
  const docs = parseAllDocuments(text, READ);
  if (!Array.isArray(docs)) return [];
  const out: { module: string; text: string }[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) continue;
    const data: unknown = doc.toJS({ maxAliasCount: 100 });
    if (!isObj(data) || data.document !== "modulemd-defaults" || !isObj(data.data)) continue;
    const module = data.data.module;
    if (typeof module !== "string") continue;
    doc.directives.docStart = true;
    out.push({ module, text: doc.toString({ lineWidth: 0 }) });
  }
  return out;
}

/**
 * The `modules.yaml` of one arch repo: every module stream's document for
 * `treeArch`, sorted by NSVC, then the defaults documents (already only
 * those of modules in the compose), sorted by module name.
 */
export function modulesYaml(
  streams: readonly ModuleStreamDoc[],
  defaults: readonly { module: string; text: string }[],
  treeArch: string,
  families: readonly string[] = [treeArch],
): string {
  const docs = [...streams]
    .sort((a, b) => (a.nsvc < b.nsvc ? -1 : a.nsvc > b.nsvc ? 1 : 0))
    .map((m) => framed(archModulemdText(m, treeArch, families)));
  const names = new Set(streams.map((m) => m.nsvc.split(":")[0]));
  const defs = defaults
    .filter((d) => names.has(d.module))
    .sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0))
    .map((d) => framed(d.text));
  return [...docs, ...defs].join("");
}
