/**
 * A protocol-level Koji hub for tests: XML-RPC over HTTP on 127.0.0.1 plus a
 * top-dir file server, answering what a real hub (1.35) answers, in the same
 * shapes (see /work/shared/reference/koji.md; "observed" behaviour included).
 *
 *   const model = new KojiModel();
 *   model.createTag("f40");
 *   model.addPackage("f40", "bash");
 *   const { nvr } = model.importBuild([rpmPath, srpmPath]);  // NEVRA read with `rpm -qp`
 *   model.tagBuild("f40", nvr);
 *   model.signRpm("bash-5.2-1.x86_64", signedCopyPath);       // addRPMSig + writeSignedRPM
 *   const hub = await startKojiHub(model);                    // hub.hubUrl, hub.topurl, hub.topdir
 *
 * The model is versioned like Koji's tables: every tag, inheritance,
 * package-list, build and tagging change takes a new event id, rows are active
 * at event E when `create_event <= E < revoke_event`. Recording signatures and
 * writing signed copies take no event (as on a real hub). Files are laid out
 * under `topdir` as koji.pathinfo does: `packages/<n>/<v>/<r>/<arch>/<file>`,
 * `…/data/signed/<sigkey>/<arch>/<file>`, `…/data/sigcache[/<sigkey>]/<arch>/<file>.sig`,
 * `vol/<volume>/packages/…` for a volume other than DEFAULT.
 *
 * The XML is parsed with fast-xml-parser and written by hand the way Python's
 * xmlrpc.client marshaller (with Koji's nil/i8 extensions) writes it. Nothing
 * here imports from src/ (the hub must stay independent of our client).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  createReadStream,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";

// ---------------------------------------------------------------------------
// XML-RPC values

/** A value sent as `<double>` (event `ts`, `*_ts` fields). */
export class Double {
  constructor(readonly value: number) {}
}

export type XValue =
  | null
  | boolean
  | number
  | string
  | Double
  | XValue[]
  | { [key: string]: XValue | undefined };

type Struct = { [key: string]: XValue | undefined };

/** A Koji fault (faultCode/faultString), with the traceback multiCall adds. */
export class KojiFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    readonly excClass = FAULT_CLASSES[faultCode] ?? "koji.GenericError",
  ) {
    super(faultString);
  }
}

const FAULT_CLASSES: Record<number, string> = {
  1000: "koji.GenericError",
  1002: "koji.AuthError",
  1003: "koji.TagError",
  1004: "koji.ActionNotAllowed",
  1014: "koji.ServerOffline",
  1019: "koji.ParameterError",
};

const generic = (msg: string) => new KojiFault(1000, msg);

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Python's repr() of a float. */
function pyFloat(x: number): string {
  if (Number.isInteger(x)) return `${x}.0`;
  return String(x);
}

/** One `<value>` as Python's xmlrpc.client.Marshaller (Koji's ExtendedMarshaller) writes it. */
export function dumpValue(v: XValue | undefined, out: string[]): void {
  if (v === null || v === undefined) {
    out.push("<value><nil/></value>");
  } else if (typeof v === "boolean") {
    out.push(`<value><boolean>${v ? 1 : 0}</boolean></value>\n`);
  } else if (typeof v === "number") {
    if (!Number.isInteger(v)) out.push(`<value><double>${pyFloat(v)}</double></value>\n`);
    else if (v > 2147483647 || v < -2147483648) out.push(`<value><i8>${v}</i8></value>\n`);
    else out.push(`<value><int>${v}</int></value>\n`);
  } else if (typeof v === "string") {
    out.push(`<value><string>${escapeXml(v)}</string></value>\n`);
  } else if (v instanceof Double) {
    out.push(`<value><double>${pyFloat(v.value)}</double></value>\n`);
  } else if (Array.isArray(v)) {
    out.push("<value><array><data>\n");
    for (const item of v) dumpValue(item, out);
    out.push("</data></array></value>\n");
  } else {
    out.push("<value><struct>\n");
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      out.push(`<member>\n<name>${escapeXml(k)}</name>\n`);
      dumpValue(item, out);
      out.push("</member>\n");
    }
    out.push("</struct></value>\n");
  }
}

export function dumpResponse(result: XValue): string {
  const out = ["<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"];
  dumpValue(result, out);
  out.push("</param>\n</params>\n</methodResponse>\n");
  return out.join("");
}

export function dumpFault(code: number, text: string): string {
  const out = ["<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"];
  dumpValue({ faultCode: code, faultString: text }, out);
  out.push("</fault>\n</methodResponse>\n");
  return out.join("");
}

type Node = Record<string, unknown>;
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  trimValues: false,
  parseTagValue: false,
  processEntities: true,
});

const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ":@") ?? "";
const childrenOf = (n: Node) => (n[tagOf(n)] as Node[] | undefined) ?? [];
const elements = (nodes: Node[]) => nodes.filter((n) => tagOf(n) !== "#text");
const textOf = (nodes: Node[]) =>
  nodes
    .filter((n) => tagOf(n) === "#text")
    .map((n) => String(n["#text"]))
    .join("");

class BadRequest extends Error {}

function parseValue(valueNode: Node): XValue {
  const kids = childrenOf(valueNode);
  const els = elements(kids);
  const [el] = els;
  if (!el) return textOf(kids);
  const t = tagOf(el);
  const inner = childrenOf(el);
  switch (t) {
    case "string":
      return textOf(inner);
    case "int":
    case "i4":
    case "i8": {
      const s = textOf(inner).trim();
      if (!/^[-+]?\d+$/.test(s)) throw new BadRequest(`bad int ${s}`);
      return Number(s);
    }
    case "boolean": {
      const s = textOf(inner).trim();
      if (s !== "0" && s !== "1") throw new BadRequest(`bad boolean value ${s}`);
      return s === "1";
    }
    case "double":
      return Number(textOf(inner).trim());
    case "nil":
    case "ex:nil":
      return null;
    case "dateTime.iso8601":
      return textOf(inner).trim();
    case "base64":
      return Buffer.from(textOf(inner), "base64").toString("latin1");
    case "array": {
      const data = elements(inner).find((n) => tagOf(n) === "data");
      return data ? elements(childrenOf(data)).map(parseValue) : [];
    }
    case "struct": {
      const s: Struct = {};
      for (const m of elements(inner)) {
        const parts = elements(childrenOf(m));
        const name = parts.find((n) => tagOf(n) === "name");
        const value = parts.find((n) => tagOf(n) === "value");
        if (!name || !value) throw new BadRequest("bad struct member");
        s[textOf(childrenOf(name))] = parseValue(value);
      }
      return s;
    }
    default:
      throw new BadRequest(`unknown tag ${t}`);
  }
}

/** Parses a `methodCall` body; throws BadRequest for anything unparsable. */
export function parseMethodCall(body: string): { method: string; params: XValue[] } {
  if (body.trim() === "" || XMLValidator.validate(body) !== true) {
    throw new BadRequest("no element found: line 1, column 0");
  }
  const doc = parser.parse(body) as Node[];
  const call = elements(doc).find((n) => tagOf(n) === "methodCall");
  if (!call) throw new BadRequest("not a methodCall");
  const parts = elements(childrenOf(call));
  const nameNode = parts.find((n) => tagOf(n) === "methodName");
  if (!nameNode) throw new BadRequest("no methodName");
  const paramsNode = parts.find((n) => tagOf(n) === "params");
  const params = paramsNode
    ? elements(childrenOf(paramsNode)).map((p) => {
        const v = elements(childrenOf(p)).find((n) => tagOf(n) === "value");
        if (!v) throw new BadRequest("param without value");
        return parseValue(v);
      })
    : [];
  return { method: textOf(childrenOf(nameNode)).trim(), params };
}

/** Parses a `methodResponse` (for tests that read the wire): the result, or the fault struct. */
export function parseMethodResponse(body: string): { result: XValue } | { fault: Struct } {
  if (XMLValidator.validate(body) !== true) throw new Error("response is not well-formed XML");
  const doc = parser.parse(body) as Node[];
  const resp = elements(doc).find((n) => tagOf(n) === "methodResponse");
  if (!resp) throw new Error("not a methodResponse");
  const [part] = elements(childrenOf(resp));
  if (!part) throw new Error("empty methodResponse");
  const valueIn = (n: Node) => {
    const v = elements(childrenOf(n)).find((x) => tagOf(x) === "value");
    if (!v) throw new Error("no value");
    return parseValue(v);
  };
  if (tagOf(part) === "fault") return { fault: valueIn(part) as Struct };
  const [param] = elements(childrenOf(part));
  if (!param) throw new Error("no param");
  return { result: valueIn(param) };
}

// ---------------------------------------------------------------------------
// Python-isms for error texts

function pyRepr(v: XValue | undefined): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v}'`;
  if (v instanceof Double) return pyFloat(v.value);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `'${k}': ${pyRepr(x)}`)
    .join(", ")}}`;
}

function pyType(v: XValue | undefined): string {
  if (v === null || v === undefined) return "<class 'NoneType'>";
  if (typeof v === "boolean") return "<class 'bool'>";
  if (typeof v === "number") return Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>";
  if (typeof v === "string") return "<class 'str'>";
  if (v instanceof Double) return "<class 'float'>";
  if (Array.isArray(v)) return "<class 'list'>";
  return "<class 'dict'>";
}

const isInt = (v: XValue | undefined): v is number => typeof v === "number" && Number.isInteger(v);

/** koji.parse_NVR (epoch in the name as `E:name` allowed); keys in Koji's order. */
function parseNvr(nvr: string): { release: string; version: string; name: string; epoch: string } {
  const p2 = nvr.lastIndexOf("-");
  if (p2 === -1 || p2 === nvr.length - 1) throw generic(`invalid format: ${nvr}`);
  const p1 = p2 > 0 ? nvr.lastIndexOf("-", p2 - 1) : -1;
  if (p1 === -1 || p1 === p2 - 1) throw generic(`invalid format: ${nvr}`);
  const release = nvr.slice(p2 + 1);
  const version = nvr.slice(p1 + 1, p2);
  let name = nvr.slice(0, p1);
  let epoch = "";
  const e = name.indexOf(":");
  if (e >= 0) {
    epoch = name.slice(0, e);
    name = name.slice(e + 1);
  }
  return { release, version, name, epoch };
}

/** koji.parse_NVRA: `N-V-R.A[.rpm][@location]`. */
function parseNvra(input: string) {
  const at = input.indexOf("@");
  let nvra = at >= 0 ? input.slice(0, at) : input;
  const location = at >= 0 ? input.slice(at + 1) : "";
  if (nvra.endsWith(".rpm")) nvra = nvra.slice(0, -4);
  const dot = nvra.lastIndexOf(".");
  if (dot === -1 || dot === nvra.length - 1) throw generic(`invalid format: ${nvra}`);
  const arch = nvra.slice(dot + 1);
  return {
    ...parseNvr(nvra.slice(0, dot)),
    arch,
    src: arch === "src",
    ...(location ? { location } : {}),
  };
}

// ---------------------------------------------------------------------------
// The model

export interface HubRpmFile {
  path: string;
}

export type BuildState = "BUILDING" | "COMPLETE" | "DELETED" | "FAILED" | "CANCELED";
const BUILD_STATES: BuildState[] = ["BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"];

interface Versioned {
  create: number;
  revoke: number | null;
}
const activeAt = (r: Versioned, e: number) => r.create <= e && (r.revoke === null || r.revoke > e);

interface EventRow {
  id: number;
  ts: number;
}
interface TagRow {
  id: number;
  name: string;
  /** tag_config rows. */
  configs: (Versioned & { arches: string })[];
}
interface InheritRow extends Versioned {
  child: number;
  parent: number;
  priority: number;
  maxdepth: number | null;
  intransitive: boolean;
  noconfig: boolean;
  pkgFilter: string;
}
interface PkgRow extends Versioned {
  tag: number;
  pkg: number;
  blocked: boolean;
  owner: number;
}
interface ListingRow extends Versioned {
  tag: number;
  build: number;
}
interface BuildRow {
  id: number;
  pkg: number;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  state: number;
  owner: number;
  volume: number;
  createEvent: number;
  time: number;
  /** Build type: `rpm` (default) or `module` (a module build: no RPMs, `extra.typeinfo.module`, archives). */
  btype?: "rpm" | "module";
  extra?: Struct | null;
  archives?: ArchiveRow[];
}
interface ArchiveRow {
  id: number;
  build: number;
  filename: string;
  size: number;
  checksum: string;
}
interface RpmRow {
  id: number;
  build: number;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  payloadhash: string;
  size: number;
  buildtime: number;
}
interface SigRow {
  rpm: number;
  sigkey: string;
  sighash: string;
}

/** What `rpm -qp` tells about one file (plus its signature header bytes). */
export interface RpmFileInfo {
  path: string;
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  /** `src` for a source RPM. */
  arch: string;
  /** N-V-R of the build (from the SRPM, or a binary RPM's SOURCERPM). */
  buildNvr: string;
  buildtime: number;
  /** Hex SIGMD5. */
  payloadhash: string;
  size: number;
  /** "" when unsigned, else the lower-case last 8 hex digits of the signer's key id. */
  sigkey: string;
}

const QF = [
  "%{NAME}",
  "%{VERSION}",
  "%{RELEASE}",
  "%{EPOCH}",
  "%{ARCH}",
  "%{SOURCERPM}",
  "%{BUILDTIME}",
  "%{SIGMD5}",
  // Koji's order: RPMSIGTAG_GPG 1005, PGP 1002, DSA 267, RSA 268.
  "%{SIGGPG:pgpsig}",
  "%{SIGPGP:pgpsig}",
  "%{DSAHEADER:pgpsig}",
  "%{RSAHEADER:pgpsig}",
].join("\\t");

/** Reads many RPM files with one `rpm -qp` per 1000 files. */
export function queryRpmFiles(paths: string[]): RpmFileInfo[] {
  const out: RpmFileInfo[] = [];
  for (let i = 0; i < paths.length; i += 1000) {
    const chunk = paths.slice(i, i + 1000);
    const text = execFileSync(
      "rpm",
      ["-qp", "--nosignature", "--nodigest", "--qf", `${QF}\\n`, ...chunk],
      { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines = text.split("\n").filter((l) => l !== "");
    if (lines.length !== chunk.length) {
      throw new Error(`rpm -qp gave ${lines.length} lines for ${chunk.length} files`);
    }
    lines.forEach((line, j) => {
      const path = chunk[j] as string;
      const f = line.split("\t");
      const [name, version, release, epoch, arch, sourcerpm, buildtime, sigmd5] = f as string[];
      const sigs = f.slice(8);
      const sig = sigs.find((s) => s !== "(none)");
      const keyId = sig ? /Key ID ([0-9a-f]+)/i.exec(sig)?.[1] : undefined;
      if (sig && !keyId) throw new Error(`${path}: cannot read the key id from "${sig}"`);
      const isSrc = sourcerpm === "(none)";
      const buildNvr = isSrc
        ? `${name}-${version}-${release}`
        : (sourcerpm ?? "").replace(/\.(no)?src\.rpm$/, "");
      out.push({
        path,
        name: name ?? "",
        version: version ?? "",
        release: release ?? "",
        epoch: epoch === "(none)" ? null : Number(epoch),
        arch: isSrc ? "src" : (arch ?? ""),
        buildNvr,
        buildtime: Number(buildtime),
        payloadhash: sigmd5 ?? "",
        size: statSync(path).size,
        sigkey: keyId ? keyId.toLowerCase().slice(-8) : "",
      });
    });
  }
  return out;
}

/** The signature header as koji.rip_rpm_sighdr cuts it (after the 96-byte lead, padded to 8). */
export function ripSigHeader(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const intro = Buffer.alloc(16);
    readSync(fd, intro, 0, 16, 96);
    if (intro.readUInt32BE(0) !== 0x8eade801) throw new Error(`${path}: no signature header`);
    const il = intro.readUInt32BE(8);
    const dl = intro.readUInt32BE(12);
    let size = 8 + 16 * il + dl;
    size += (8 - (size % 8)) % 8;
    size += 8;
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 96);
    return buf;
  } finally {
    closeSync(fd);
  }
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** Directories known to exist: one mkdir(2) per new level, none for known ones (10 000 builds). */
function ensureDir(dir: string, madeDirs: Set<string>): void {
  if (madeDirs.has(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent, madeDirs);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  madeDirs.add(dir);
}

function placeFile(src: string, dst: string, madeDirs: Set<string>): void {
  ensureDir(dirname(dst), madeDirs);
  try {
    linkSync(src, dst);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    copyFileSync(src, dst);
  }
}

/** Koji's time strings: `2024-04-25 10:11:12.345678+00:00`. */
function kojiTime(ts: number): string {
  const d = new Date(Math.floor(ts * 1000));
  const micro = String(Math.round((ts - Math.floor(ts)) * 1e6)).padStart(6, "0");
  return `${d.toISOString().slice(0, 19).replace("T", " ")}.${micro}+00:00`;
}

/** Event timestamps: one second apart from a fixed start, with a fraction. */
const EPOCH0 = Date.UTC(2024, 3, 25, 10, 0, 0) / 1000;

interface TagQuery {
  tag: TagRow;
  event: number;
}

export class KojiModel {
  /** Where the files live (packages/… layout); served by the hub's file server. */
  readonly topdir: string;
  private events: EventRow[] = [];
  private tags: TagRow[] = [];
  private inherit: InheritRow[] = [];
  private pkgRows: PkgRow[] = [];
  private listings: ListingRow[] = [];
  private packages = new Map<string, number>();
  private users = new Map<string, number>([["kojiadmin", 1]]);
  private volumes = new Map<string, number>([["DEFAULT", 0]]);
  private builds: BuildRow[] = [];
  private rpms: RpmRow[] = [];
  private sigs: SigRow[] = [];
  private fileInfo = new Map<string, RpmFileInfo>();
  // Indexes (tags of 10 000 builds must stay cheap).
  private buildIndex = new Map<string, BuildRow>();
  private rpmsByBuild = new Map<number, RpmRow[]>();
  private rpmIndex = new Map<string, RpmRow>();
  private sigsByRpm = new Map<number, SigRow[]>();
  private pkgNames: string[] = [];
  private madeDirs = new Set<string>();
  private archiveSeq = 0;

  constructor(opts: { topdir?: string } = {}) {
    this.topdir = opts.topdir ?? mkdtempSync(join(tmpdir(), "koji-topdir-"));
    mkdirSync(join(this.topdir, "packages"), { recursive: true });
  }

  // -- events --------------------------------------------------------------

  /** Current (last) event id; 0 before the first change. */
  lastEvent(): number {
    return this.events.at(-1)?.id ?? 0;
  }

  private newEvent(): number {
    const id = this.lastEvent() + 1;
    this.events.push({ id, ts: EPOCH0 + id + (id % 1000) / 1000 + 0.000123 });
    return id;
  }

  eventRow(id: number): EventRow | undefined {
    return this.events[id - 1];
  }

  eventList(): readonly EventRow[] {
    return this.events;
  }

  // -- lookups ---------------------------------------------------------------

  private tagByName(name: string): TagRow {
    const t = this.tags.find((x) => x.name === name);
    if (!t) throw new Error(`no tag ${name}`);
    return t;
  }

  private pkgId(name: string): number {
    let id = this.packages.get(name);
    if (id === undefined) {
      id = this.packages.size + 1;
      this.packages.set(name, id);
      this.pkgNames[id] = name;
    }
    return id;
  }

  private userId(name: string): number {
    let id = this.users.get(name);
    if (id === undefined) {
      id = this.users.size + 1;
      this.users.set(name, id);
    }
    return id;
  }

  private buildByNvr(nvr: string): BuildRow {
    const b = this.buildIndex.get(nvr);
    if (!b) throw new Error(`no build ${nvr}`);
    return b;
  }

  // -- tags ------------------------------------------------------------------

  createTag(name: string, opts: { arches?: string[] } = {}): { id: number; event: number } {
    const event = this.newEvent();
    let tag = this.tags.find((t) => t.name === name);
    if (tag?.configs.some((c) => c.revoke === null)) throw new Error(`tag ${name} exists`);
    if (!tag) {
      tag = { id: this.tags.length + 1, name, configs: [] };
      this.tags.push(tag);
    }
    tag.configs.push({ create: event, revoke: null, arches: (opts.arches ?? []).join(" ") });
    return { id: tag.id, event };
  }

  /** delete_tag: revokes the tag's config, taggings, package list and inheritance links. */
  deleteTag(name: string): number {
    const tag = this.tagByName(name);
    const event = this.newEvent();
    const revoke = (r: Versioned) => {
      if (r.revoke === null) r.revoke = event;
    };
    tag.configs.forEach(revoke);
    for (const r of this.listings) if (r.tag === tag.id) revoke(r);
    for (const r of this.pkgRows) if (r.tag === tag.id) revoke(r);
    for (const r of this.inherit) if (r.child === tag.id || r.parent === tag.id) revoke(r);
    return event;
  }

  addInheritance(
    child: string,
    parent: string,
    priority: number,
    opts: {
      maxdepth?: number | null;
      intransitive?: boolean;
      noconfig?: boolean;
      pkgFilter?: string;
    } = {},
  ): number {
    const c = this.tagByName(child);
    const p = this.tagByName(parent);
    const event = this.newEvent();
    for (const r of this.inherit) {
      if (r.child === c.id && r.parent === p.id && r.revoke === null) r.revoke = event;
    }
    this.inherit.push({
      create: event,
      revoke: null,
      child: c.id,
      parent: p.id,
      priority,
      maxdepth: opts.maxdepth ?? null,
      intransitive: opts.intransitive ?? false,
      noconfig: opts.noconfig ?? false,
      pkgFilter: opts.pkgFilter ?? "",
    });
    return event;
  }

  removeInheritance(child: string, parent: string): number {
    const c = this.tagByName(child);
    const p = this.tagByName(parent);
    const link = this.inherit.find(
      (r) => r.child === c.id && r.parent === p.id && r.revoke === null,
    );
    if (!link) throw new Error(`${child} does not inherit ${parent}`);
    const event = this.newEvent();
    link.revoke = event;
    return event;
  }

  // -- package lists ---------------------------------------------------------

  private setPkg(tag: TagRow, pkg: number, blocked: boolean, owner: number, event: number) {
    for (const r of this.pkgRows) {
      if (r.tag === tag.id && r.pkg === pkg && r.revoke === null) r.revoke = event;
    }
    this.pkgRows.push({ create: event, revoke: null, tag: tag.id, pkg, blocked, owner });
  }

  addPackage(tag: string, pkg: string, opts: { blocked?: boolean; owner?: string } = {}): number {
    const t = this.tagByName(tag);
    const event = this.newEvent();
    this.setPkg(
      t,
      this.pkgId(pkg),
      opts.blocked ?? false,
      this.userId(opts.owner ?? "kojiadmin"),
      event,
    );
    return event;
  }

  blockPackage(tag: string, pkg: string): number {
    const t = this.tagByName(tag);
    const id = this.pkgId(pkg);
    const own = this.pkgRows.find((r) => r.tag === t.id && r.pkg === id && r.revoke === null);
    const inherited = this.packageList(t, Number.POSITIVE_INFINITY).get(id);
    const event = this.newEvent();
    this.setPkg(t, id, true, own?.owner ?? inherited?.owner ?? 1, event);
    return event;
  }

  /** pkglist_unblock: drops the tag's own block; re-lists the package if nothing else lists it. */
  unblockPackage(tag: string, pkg: string): number {
    const t = this.tagByName(tag);
    const id = this.pkgId(pkg);
    const own = this.pkgRows.find((r) => r.tag === t.id && r.pkg === id && r.revoke === null);
    if (!own?.blocked) throw new Error(`package ${pkg} is not blocked in ${tag}`);
    const event = this.newEvent();
    own.revoke = event;
    if (!this.packageList(t, event).has(id)) {
      this.pkgRows.push({
        create: event,
        revoke: null,
        tag: t.id,
        pkg: id,
        blocked: false,
        owner: own.owner,
      });
    }
    return event;
  }

  // -- builds and RPMs -------------------------------------------------------

  /** Reads (and remembers) many RPM files with one `rpm -qp` per 1000 files. */
  preloadRpms(paths: string[]): void {
    const todo = [
      ...new Set(paths.filter((p) => !this.fileInfo.has(resolve(p))).map((p) => resolve(p))),
    ];
    for (const info of queryRpmFiles(todo)) this.fileInfo.set(info.path, info);
  }

  private info(path: string): RpmFileInfo {
    const p = resolve(path);
    if (!this.fileInfo.has(p)) this.preloadRpms([p]);
    const i = this.fileInfo.get(p);
    if (!i) throw new Error(`cannot read ${p}`);
    return i;
  }

  private volumeRoot(volume: number): string {
    if (volume === 0) return this.topdir;
    const name = [...this.volumes].find(([, id]) => id === volume)?.[0] ?? "";
    return join(this.topdir, "vol", name);
  }

  /** `<volume root>/packages/<name>/<version>/<release>` of a build. */
  buildDir(b: { name: string; version: string; release: string; volume: number }): string {
    return join(this.volumeRoot(b.volume), "packages", b.name, b.version, b.release);
  }

  private rpmFile(r: RpmRow) {
    return `${r.name}-${r.version}-${r.release}.${r.arch}.rpm`;
  }

  /** Path of a RPM's copy under topdir: the imported file, or the signed copy for `sigkey`. */
  rpmPath(nvra: string, sigkey = ""): string {
    const r = this.rpmByNvra(nvra);
    const b = this.builds[r.build - 1] as BuildRow;
    const dir = this.buildDir(b);
    return sigkey === ""
      ? join(dir, r.arch, this.rpmFile(r))
      : join(dir, "data", "signed", sigkey, r.arch, this.rpmFile(r));
  }

  private rpmByNvra(nvra: string): RpmRow {
    const r = this.rpmIndex.get(nvra);
    if (!r) throw new Error(`no rpm ${nvra}`);
    return r;
  }

  private writeSig(r: RpmRow, sigkey: string, header: Buffer): void {
    const b = this.builds[r.build - 1] as BuildRow;
    const parts = [this.buildDir(b), "data", "sigcache", ...(sigkey ? [sigkey] : []), r.arch];
    const path = join(...parts, `${this.rpmFile(r)}.sig`);
    ensureDir(dirname(path), this.madeDirs);
    writeFileSync(path, header);
    const sighash = md5(header);
    const old = this.sigsOf(r.id).find((s) => s.sigkey === sigkey);
    if (old && old.sighash !== sighash) {
      throw new Error(`${this.rpmFile(r)}: a different header for sigkey "${sigkey}" is recorded`);
    }
    if (!old) {
      const row = { rpm: r.id, sigkey, sighash };
      this.sigs.push(row);
      this.sigsByRpm.set(r.id, [...(this.sigsByRpm.get(r.id) ?? []), row]);
    }
  }

  /**
   * Imports a build from real RPM files (CLI `koji import`): one new event;
   * the files are linked into the build dir; each file's own signature
   * header is recorded ("" when unsigned) and written to the sigcache.
   */
  importBuild(
    rpmPaths: string[],
    opts: { state?: BuildState; volume?: string; owner?: string } = {},
  ): { buildId: number; nvr: string; event: number } {
    if (rpmPaths.length === 0) throw new Error("importBuild: no RPMs");
    this.preloadRpms(rpmPaths);
    const infos = rpmPaths.map((p) => this.info(p));
    const nvr = (infos[0] as RpmFileInfo).buildNvr;
    for (const i of infos) {
      if (i.buildNvr !== nvr) throw new Error(`${i.path} belongs to ${i.buildNvr}, not ${nvr}`);
    }
    if (this.buildIndex.has(nvr)) {
      throw new Error(`build ${nvr} already exists`);
    }
    const { name, version, release } = parseNvr(nvr);
    const src = infos.find((i) => i.arch === "src");
    const epoch = src ? src.epoch : (infos[0] as RpmFileInfo).epoch;
    let volume = 0;
    if (opts.volume && opts.volume !== "DEFAULT") {
      volume = this.volumes.get(opts.volume) ?? this.volumes.size;
      this.volumes.set(opts.volume, volume);
    }
    const event = this.newEvent();
    const b: BuildRow = {
      id: this.builds.length + 1,
      pkg: this.pkgId(name),
      name,
      version,
      release,
      epoch,
      state: BUILD_STATES.indexOf(opts.state ?? "COMPLETE"),
      owner: this.userId(opts.owner ?? "kojiadmin"),
      volume,
      createEvent: event,
      time: (this.eventRow(event) as EventRow).ts,
    };
    this.builds.push(b);
    this.buildIndex.set(nvr, b);
    const dir = this.buildDir(b);
    for (const i of infos) {
      const r: RpmRow = {
        id: this.rpms.length + 1,
        build: b.id,
        name: i.name,
        version: i.version,
        release: i.release,
        epoch: i.epoch,
        arch: i.arch,
        payloadhash: i.payloadhash,
        size: i.size,
        buildtime: i.buildtime,
      };
      this.rpms.push(r);
      this.rpmIndex.set(`${r.name}-${r.version}-${r.release}.${r.arch}`, r);
      this.rpmsByBuild.set(b.id, [...(this.rpmsByBuild.get(b.id) ?? []), r]);
      placeFile(i.path, join(dir, r.arch, this.rpmFile(r)), this.madeDirs);
      this.writeSig(r, i.sigkey, ripSigHeader(i.path));
    }
    return { buildId: b.id, nvr, event };
  }

  /**
   * A module build as MBS imports it (content generator `module-build-service`):
   * build `name` = module name, `version` = stream with `-` as `_`, `release` =
   * `<version>.<context>`; `extra.typeinfo.module` with the modulemd and the
   * content tag; `module` archives `modulemd.txt` and `modulemd.<arch>.txt`
   * written under `<build dir>/files/module/`. One new event; no RPMs.
   */
  importModuleBuild(spec: {
    name: string;
    stream: string;
    version: string;
    context: string;
    modulemd: string;
    contentTag: string;
    /** arch → per-arch modulemd document. */
    archModulemd?: Record<string, string>;
    state?: BuildState;
    mbsId?: number;
  }): { buildId: number; nvr: string; event: number } {
    const version = spec.stream.replace(/-/g, "_");
    const release = `${spec.version}.${spec.context}`;
    const nvr = `${spec.name}-${version}-${release}`;
    if (this.buildIndex.has(nvr)) throw new Error(`build ${nvr} already exists`);
    const event = this.newEvent();
    const b: BuildRow = {
      id: this.builds.length + 1,
      pkg: this.pkgId(spec.name),
      name: spec.name,
      version,
      release,
      epoch: null,
      state: BUILD_STATES.indexOf(spec.state ?? "COMPLETE"),
      owner: this.userId("mbs"),
      volume: 0,
      createEvent: event,
      time: (this.eventRow(event) as EventRow).ts,
      btype: "module",
      extra: {
        typeinfo: {
          module: {
            module_build_service_id: spec.mbsId ?? this.builds.length + 1000,
            content_koji_tag: spec.contentTag,
            modulemd_str: spec.modulemd,
            name: spec.name,
            stream: spec.stream,
            version: spec.version,
            context: spec.context,
          },
        },
      },
      archives: [],
    };
    this.builds.push(b);
    this.buildIndex.set(nvr, b);
    const files: [string, string][] = [
      ["modulemd.txt", spec.modulemd],
      ...Object.entries(spec.archModulemd ?? {}).map(([arch, doc]): [string, string] => [
        `modulemd.${arch}.txt`,
        doc,
      ]),
    ];
    const dir = join(this.buildDir(b), "files", "module");
    ensureDir(dir, this.madeDirs);
    for (const [filename, text] of files) {
      writeFileSync(join(dir, filename), text);
      const bytes = Buffer.from(text);
      (b.archives as ArchiveRow[]).push({
        id: ++this.archiveSeq,
        build: b.id,
        filename,
        size: bytes.length,
        checksum: md5(bytes),
      });
    }
    return { buildId: b.id, nvr, event };
  }

  allBuilds(): readonly BuildRow[] {
    return this.builds;
  }

  /** Several builds at once (one `rpm -qp` run for all files); one event per build. */
  importBuilds(
    builds: { rpms: string[]; state?: BuildState; volume?: string; owner?: string }[],
  ): { buildId: number; nvr: string; event: number }[] {
    this.preloadRpms(builds.flatMap((b) => b.rpms));
    return builds.map((b) => this.importBuild(b.rpms, b));
  }

  /**
   * addRPMSig + writeSignedRPM: records the signature header of `signedPath`
   * (the same RPM signed with another key) and writes the signed copy unless
   * `writeCopy: false`. Takes no event, as on a real hub; returns the last one.
   */
  signRpm(
    nvra: string,
    signedPath: string,
    opts: { writeCopy?: boolean } = {},
  ): { sigkey: string; event: number } {
    const r = this.rpmByNvra(nvra);
    const [i] = queryRpmFiles([resolve(signedPath)]);
    if (!i) throw new Error(`cannot read ${signedPath}`);
    if (i.payloadhash !== r.payloadhash) throw new Error(`${signedPath} is not a copy of ${nvra}`);
    if (i.sigkey === "") throw new Error(`${signedPath} is not signed`);
    this.writeSig(r, i.sigkey, ripSigHeader(i.path));
    if (opts.writeCopy !== false) placeFile(i.path, this.rpmPath(nvra, i.sigkey), this.madeDirs);
    return { sigkey: i.sigkey, event: this.lastEvent() };
  }

  tagBuild(tag: string, nvr: string): number {
    const t = this.tagByName(tag);
    const b = this.buildByNvr(nvr);
    if (this.listings.some((r) => r.tag === t.id && r.build === b.id && r.revoke === null)) {
      throw new Error(`build ${nvr} already tagged (${tag})`);
    }
    const event = this.newEvent();
    this.listings.push({ create: event, revoke: null, tag: t.id, build: b.id });
    return event;
  }

  untagBuild(tag: string, nvr: string): number {
    const t = this.tagByName(tag);
    const b = this.buildByNvr(nvr);
    const row = this.listings.find((r) => r.tag === t.id && r.build === b.id && r.revoke === null);
    if (!row) throw new Error(`build ${nvr} not in tag ${tag}`);
    const event = this.newEvent();
    row.revoke = event;
    return event;
  }

  // -- queries (the hub's semantics) ---------------------------------------

  /** A tag by name or id that exists at `event` (`auto`: also deleted ones). */
  findTag(
    info: string | number,
    event: number | "auto",
  ): { tag: TagRow; revoke: number | null } | undefined {
    const tag = this.tags.find((t) => (typeof info === "number" ? t.id === info : t.name === info));
    if (!tag) return undefined;
    if (event === "auto") {
      const last = tag.configs.at(-1);
      return last ? { tag, revoke: last.revoke } : undefined;
    }
    return tag.configs.some((c) => activeAt(c, event)) ? { tag, revoke: null } : undefined;
  }

  tagIdByName(name: string | number): number | undefined {
    return this.tags.find((t) => (typeof name === "number" ? t.id === name : t.name === name))?.id;
  }

  tagArches(tag: TagRow, event: number): string {
    return (tag.configs.find((c) => activeAt(c, event)) ?? tag.configs.at(-1))?.arches ?? "";
  }

  tagNameOf(id: number): string {
    return this.tags[id - 1]?.name ?? "";
  }

  inheritanceData(tagId: number, event: number, reverse = false): InheritRow[] {
    return this.inherit
      .filter((r) => activeAt(r, event) && (reverse ? r.parent === tagId : r.child === tagId))
      .sort((a, b) => a.priority - b.priority);
  }

  /** readFullInheritance: links in search order with currdepth, nextdepth, filter. */
  fullInheritance(tagId: number, event: number, reverse = false): FullLink[] {
    // A transcription of kojihub's readFullInheritanceRecurse, quirks included
    // (noconfig sticks for later siblings; any earlier filter forces a rescan).
    const order: FullLink[] = [];
    const hist = new Map<number, (FullLink & { noconfig: boolean })[]>();
    const recurse = (
      id: number,
      top: Set<number>,
      currdepth: number,
      maxdepth: number | null,
      inheritedNoconfig: boolean,
      pfilter: string[],
    ) => {
      if (maxdepth !== null && maxdepth < 1) return;
      const depth = currdepth + 1;
      const here = new Set(top).add(id);
      let noconfig = inheritedNoconfig;
      for (const link of this.inheritanceData(id, event, reverse)) {
        const next = reverse ? link.child : link.parent;
        if (here.has(next)) continue;
        if (link.intransitive && here.size > 1 && !reverse) continue;
        let nextdepth: number | null;
        if (reverse) {
          if (link.maxdepth !== null && link.maxdepth < depth - 1) continue;
          nextdepth = null;
        } else {
          nextdepth = link.maxdepth;
          if (nextdepth === null) {
            if (maxdepth !== null) nextdepth = maxdepth - 1;
          } else if (maxdepth !== null) {
            nextdepth = Math.min(nextdepth, maxdepth) - 1;
          }
        }
        if (link.noconfig) noconfig = true;
        const filter = link.pkgFilter ? [...pfilter, link.pkgFilter] : [...pfilter];
        const full = { row: link, tagId: next, currdepth: depth, nextdepth, filter, noconfig };
        const prev = hist.get(next);
        if (prev) {
          const sufficient = prev.some((p) => {
            if (
              nextdepth === null
                ? p.nextdepth !== null
                : p.nextdepth !== null && p.nextdepth < nextdepth
            ) {
              return false;
            }
            if (p.noconfig && !noconfig) return false;
            return p.filter.length === 0;
          });
          if (sufficient) continue;
          prev.push(full);
        } else {
          hist.set(next, [full]);
        }
        order.push(full);
        if (link.intransitive && reverse) continue;
        recurse(next, here, depth, nextdepth, noconfig, filter);
      }
    };
    recurse(tagId, new Set(), 0, null, false, []);
    return order.map(({ row, tagId: t, currdepth, nextdepth, filter }) => ({
      row,
      tagId: t,
      currdepth,
      nextdepth,
      filter,
    }));
  }

  /** readPackageList(inherit=True): package id → the entry that rules (blocked included). */
  packageList(tag: TagRow, event: number): Map<number, PkgRow> {
    const out = new Map<number, PkgRow>();
    for (const r of this.pkgRows) if (r.tag === tag.id && activeAt(r, event)) out.set(r.pkg, r);
    for (const link of this.fullInheritance(tag.id, event)) {
      const res = link.filter.map((f) => new RegExp(`^(?:${f})`));
      for (const r of this.pkgRows) {
        if (r.tag !== link.tagId || !activeAt(r, event) || out.has(r.pkg)) continue;
        const name = this.pkgName(r.pkg);
        if (res.every((re) => re.test(name))) out.set(r.pkg, r);
      }
    }
    return out;
  }

  pkgName(id: number): string {
    return this.pkgNames[id] ?? "";
  }

  userName(id: number): string {
    return [...this.users].find(([, v]) => v === id)?.[0] ?? "";
  }

  volumeName(id: number): string {
    return [...this.volumes].find(([, v]) => v === id)?.[0] ?? "";
  }

  searchOrder(q: TagQuery, inherit: boolean): number[] {
    return [
      q.tag.id,
      ...(inherit ? this.fullInheritance(q.tag.id, q.event).map((l) => l.tagId) : []),
    ];
  }

  /** readTaggedBuilds: [build, tag id, tagging event] in Koji's order. */
  taggedBuilds(
    q: TagQuery,
    opts: {
      inherit: boolean;
      latest: boolean | number;
      package?: string;
      owner?: string;
      prefix?: string;
      /** `rpm`, `module`, or undefined for every type. */
      type?: string;
    },
  ): { build: BuildRow; tagId: number; tagEvent: number }[] {
    const pkgs = this.packageList(q.tag, q.event);
    const seen = new Map<number, number>();
    const out: { build: BuildRow; tagId: number; tagEvent: number }[] = [];
    // Python: latest=True → 1 per package; an int N → N (0 = all; negative keeps nothing).
    const limit = opts.latest === true ? 1 : opts.latest === false ? 0 : opts.latest;
    for (const tagId of this.searchOrder(q, opts.inherit)) {
      const rows = this.listings
        .filter((r) => r.tag === tagId && activeAt(r, q.event))
        .map((r) => ({ r, b: this.builds[r.build - 1] as BuildRow }))
        .filter(({ b }) => b.state === 1)
        .filter(({ b }) => opts.package === undefined || b.name === opts.package)
        .filter(({ b }) => opts.owner === undefined || this.userName(b.owner) === opts.owner)
        .filter(({ b }) => opts.type === undefined || (b.btype ?? "rpm") === opts.type)
        .filter(
          ({ b }) =>
            opts.prefix === undefined || b.name.toLowerCase().startsWith(opts.prefix.toLowerCase()),
        )
        .sort((x, y) => y.r.create - x.r.create || y.b.id - x.b.id);
      for (const { r, b } of rows) {
        const entry = pkgs.get(b.pkg);
        if (!entry || entry.blocked) continue;
        if (limit !== 0) {
          const n = seen.get(b.pkg) ?? 0;
          if (n >= limit) continue;
          seen.set(b.pkg, n + 1);
        }
        out.push({ build: b, tagId, tagEvent: r.create });
      }
    }
    return out;
  }

  buildById(id: number): BuildRow | undefined {
    return this.builds[id - 1];
  }

  findBuild(nvr: { name: string; version: string; release: string }): BuildRow | undefined {
    return this.buildIndex.get(`${nvr.name}-${nvr.version}-${nvr.release}`);
  }

  rpmsOf(buildId: number): RpmRow[] {
    return this.rpmsByBuild.get(buildId) ?? [];
  }

  allRpms(): readonly RpmRow[] {
    return this.rpms;
  }

  rpmById(id: number): RpmRow | undefined {
    return this.rpms[id - 1];
  }

  findRpm(n: { name: string; version: string; release: string; arch: string }): RpmRow | undefined {
    return this.rpmIndex.get(`${n.name}-${n.version}-${n.release}.${n.arch}`);
  }

  sigsOf(rpmId: number): SigRow[] {
    return this.sigsByRpm.get(rpmId) ?? [];
  }

  allSigs(): readonly SigRow[] {
    return this.sigs;
  }

  /** Events (create or revoke) that touched these tags, for tagChangedSinceEvent / tagLastChangeEvent. */
  tagChangeEvents(tagIds: number[]): number[] {
    const ids = new Set(tagIds);
    const out: number[] = [];
    const add = (r: Versioned) => {
      out.push(r.create);
      if (r.revoke !== null) out.push(r.revoke);
    };
    for (const t of this.tags) if (ids.has(t.id)) t.configs.forEach(add);
    for (const r of this.listings) if (ids.has(r.tag)) add(r);
    for (const r of this.pkgRows) if (ids.has(r.tag)) add(r);
    for (const r of this.inherit) if (ids.has(r.child)) add(r);
    return out;
  }
}

interface FullLink {
  row: InheritRow;
  /** The tag reached (parent, or child when reverse). */
  tagId: number;
  currdepth: number;
  nextdepth: number | null;
  filter: string[];
}

// ---------------------------------------------------------------------------
// Methods

interface MethodDef {
  /** Python name used in TypeError texts (`RootExports.listTagged`, `get_tag`). */
  py: string;
  /** Parameter names in positional order (without self). */
  params: string[];
  /** How many are required. */
  required: number;
  /** RootExports methods count `self` in Python's positional-argument texts. */
  bound: boolean;
  fn: (a: Record<string, XValue | undefined>) => XValue;
}

/** Binds positional + keyword args as Python does; TypeError texts become ParameterError 1019. */
function bindArgs(def: MethodDef, params: XValue[]): Record<string, XValue | undefined> {
  let positional = params;
  let kw: Struct = {};
  const last = params.at(-1);
  if (
    last !== null &&
    typeof last === "object" &&
    !Array.isArray(last) &&
    !(last instanceof Double) &&
    (last as Struct).__starstar === true
  ) {
    positional = params.slice(0, -1);
    kw = { ...(last as Struct) };
    delete kw.__starstar;
  }
  const off = def.bound ? 1 : 0;
  const fail = (msg: string) => new KojiFault(1019, `${def.py}() ${msg}`);
  if (positional.length > def.params.length) {
    const lo = def.required + off;
    const hi = def.params.length + off;
    const takes =
      lo === hi
        ? `takes ${hi} positional argument${hi === 1 ? "" : "s"}`
        : `takes from ${lo} to ${hi} positional arguments`;
    throw fail(`${takes} but ${positional.length + off} were given`);
  }
  const args: Record<string, XValue | undefined> = {};
  positional.forEach((v, i) => {
    args[def.params[i] as string] = v;
  });
  for (const [k, v] of Object.entries(kw)) {
    if (!def.params.includes(k)) throw fail(`got an unexpected keyword argument '${k}'`);
    if (k in args) throw fail(`got multiple values for argument '${k}'`);
    args[k] = v;
  }
  const missing = def.params.slice(0, def.required).filter((p) => !(p in args));
  if (missing.length > 0) {
    const names = missing.map((m) => `'${m}'`);
    const list =
      names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    throw fail(
      `missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${list}`,
    );
  }
  return args;
}

const WRITE_METHODS: Record<string, string> = {
  tagBuild: "tag",
  untagBuild: "tag",
  tagBuildBypass: "tag",
  untagBuildBypass: "tag",
  createTag: "tag",
  editTag2: "tag",
  deleteTag: "tag",
  setInheritanceData: "tag",
  packageListAdd: "tag",
  packageListBlock: "tag",
  packageListUnblock: "tag",
  packageListRemove: "tag",
  packageListSetOwner: "tag",
  addRPMSig: "sign",
  deleteRPMSig: "sign",
  writeSignedRPM: "sign",
  importRPM: "admin",
  CGImport: "admin",
  createEmptyBuild: "admin",
  deleteBuild: "admin",
  resetBuild: "admin",
};

function makeMethods(model: KojiModel, version: string): Map<string, MethodDef> {
  const m = new Map<string, MethodDef>();
  const def = (
    name: string,
    py: string,
    bound: boolean,
    params: string[],
    required: number,
    fn: MethodDef["fn"],
  ) => m.set(name, { py, bound, params, required, fn });

  const eventArg = (v: XValue | undefined): number => {
    if (v === null || v === undefined) return Number.POSITIVE_INFINITY;
    if (!isInt(v))
      throw new KojiFault(
        1,
        `<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type integer: ${pyRepr(v)}`,
      );
    return v;
  };
  const tagInfoText = (info: XValue | undefined) => `No such tagInfo: ${pyRepr(info ?? null)}`;

  /** get_tag(strict) at an event; undefined when unknown and not strict. */
  const getTag = (
    info: XValue | undefined,
    strict: boolean,
    event: number,
  ): TagQuery | undefined => {
    if (typeof info !== "string" && !isInt(info)) {
      throw new KojiFault(1000, `Invalid type for tagInfo: ${pyType(info)}`);
    }
    const found = model.findTag(info, event);
    if (!found) {
      if (strict) throw generic(tagInfoText(info));
      return undefined;
    }
    return { tag: found.tag, event };
  };
  /** get_tag_id(strict=True). */
  const tagIdStrict = (info: XValue | undefined): number => {
    const id = typeof info === "string" || isInt(info) ? model.tagIdByName(info) : undefined;
    if (id === undefined) throw generic(`No such entry in table tag: ${info}`);
    return id;
  };

  const isTrue = (v: XValue | undefined) =>
    v !== null && v !== undefined && v !== false && v !== 0 && v !== "";

  const tagStruct = (
    q: TagQuery,
    queryEvent: XValue | undefined,
    auto?: { revoke: number | null },
  ) => {
    const s: Struct = {
      arches: model.tagArches(q.tag, q.event),
      id: q.tag.id,
      locked: false,
      maven_include_all: false,
      maven_support: false,
      name: q.tag.name,
      perm: null,
      perm_id: null,
      extra: {},
    };
    if (auto) s.revoke_event = auto.revoke;
    if (queryEvent !== null && queryEvent !== undefined) s.query_event = queryEvent;
    return s;
  };

  const linkStruct = (l: InheritRow, reverse: boolean): Struct => {
    const base: Struct = {
      intransitive: l.intransitive,
      maxdepth: l.maxdepth,
      name: model.tagNameOf(reverse ? l.child : l.parent),
      noconfig: l.noconfig,
      parent_id: l.parent,
      pkg_filter: l.pkgFilter,
      priority: l.priority,
    };
    if (reverse) base.tag_id = l.child;
    else base.child_id = l.child;
    return base;
  };

  const buildTimes = (b: BuildRow) => kojiTime(b.time);
  const buildBase = (b: BuildRow): Struct => ({
    build_id: b.id,
    completion_time: buildTimes(b),
    creation_event_id: b.createEvent,
    creation_time: buildTimes(b),
    draft: false,
    epoch: b.epoch,
    id: b.id,
    name: b.name,
    nvr: `${b.name}-${b.version}-${b.release}`,
    owner_id: b.owner,
    owner_name: model.userName(b.owner),
    package_id: b.pkg,
    package_name: b.name,
    promoter_id: null,
    promoter_name: null,
    promotion_time: null,
    release: b.release,
    start_time: buildTimes(b),
    state: b.state,
    task_id: null,
    version: b.version,
    volume_id: b.volume,
    volume_name: model.volumeName(b.volume),
  });
  const taggedStruct = (
    t: { build: BuildRow; tagId: number; tagEvent: number },
    extra: boolean,
  ): Struct => {
    const s: Struct = {
      ...buildBase(t.build),
      create_event: t.tagEvent,
      tag_id: t.tagId,
      tag_name: model.tagNameOf(t.tagId),
    };
    if (extra) s.extra = t.build.extra ?? null;
    return s;
  };
  const getBuildStruct = (b: BuildRow): Struct => {
    const ts = new Double(b.time);
    return {
      ...buildBase(b),
      cg_id: null,
      completion_ts: ts,
      creation_ts: ts,
      promotion_ts: null,
      source: null,
      start_ts: ts,
      extra: b.extra ?? null,
      cg_name: null,
    };
  };
  const rpmStruct = (r: RpmRow, withNvr: boolean): Struct => {
    const s: Struct = {
      arch: r.arch,
      build_id: r.build,
      buildroot_id: null,
      buildtime: r.buildtime,
      draft: false,
      epoch: r.epoch,
      external_repo_id: 0,
      external_repo_name: "INTERNAL",
      id: r.id,
      metadata_only: false,
      name: r.name,
      payloadhash: r.payloadhash,
      release: r.release,
      size: r.size,
      version: r.version,
    };
    if (withNvr) s.nvr = `${r.name}-${r.version}-${r.release}`;
    s.extra = null;
    return s;
  };
  /** The row shape of listTaggedRPMS (§8 order). */
  const taggedRpmStruct = (r: RpmRow, extra: boolean): Struct => {
    const s: Struct = {
      name: r.name,
      version: r.version,
      release: r.release,
      arch: r.arch,
      id: r.id,
      epoch: r.epoch,
      draft: false,
      payloadhash: r.payloadhash,
      size: r.size,
      buildtime: r.buildtime,
      buildroot_id: null,
      build_id: r.build,
      metadata_only: false,
    };
    if (extra) s.extra = null;
    return s;
  };

  /** find_build_id. */
  const findBuild = (info: XValue | undefined, strict: boolean): BuildRow | undefined => {
    let b: BuildRow | undefined;
    if (isInt(info)) b = model.buildById(info);
    else if (typeof info === "string") b = model.findBuild(parseNvr(info));
    else if (
      info &&
      typeof info === "object" &&
      !Array.isArray(info) &&
      !(info instanceof Double)
    ) {
      const s = info as Struct;
      if (
        typeof s.name !== "string" ||
        typeof s.version !== "string" ||
        typeof s.release !== "string"
      ) {
        throw generic(`Invalid build info: ${pyRepr(info)}`);
      }
      b = model.findBuild({ name: s.name, version: s.version, release: s.release });
    } else throw generic(`Invalid type for build info: ${pyType(info)}`);
    if (!b && strict) throw generic(`No such build: ${pyRepr(info ?? null)}`);
    return b;
  };

  /** The build type filter (undefined: every type); rpm and module builds are modelled, the others have none. */
  const checkType = (type: XValue | undefined): string | undefined => {
    if (type === null || type === undefined) return undefined;
    if (typeof type !== "string" || !["rpm", "maven", "win", "image", "module"].includes(type)) {
      throw generic(`unsupported build type: ${type}`);
    }
    return type;
  };
  const latestArg = (v: XValue | undefined): boolean | number => (isInt(v) ? v : isTrue(v));
  const strOrUndef = (v: XValue | undefined) => (typeof v === "string" ? v : undefined);

  const arches = (v: XValue | undefined, what: string): Set<string> | undefined => {
    // Python's `if arch:` — nil, "", [] and 0 do not filter.
    if (!isTrue(v) || (Array.isArray(v) && v.length === 0)) return undefined;
    if (typeof v === "string") return new Set([v]);
    if (Array.isArray(v)) return new Set(v.map(String));
    throw generic(`Invalid type for ${what} option: ${pyType(v)}`);
  };

  const applyQueryOpts = (rows: Struct[], opts: XValue | undefined): XValue => {
    const o = (opts && typeof opts === "object" && !Array.isArray(opts) ? opts : {}) as Struct;
    let out = rows;
    if (typeof o.order === "string") {
      const desc = o.order.startsWith("-");
      const key = desc ? o.order.slice(1) : o.order;
      out = [...out].sort((a, b) => {
        const x = a[key] as string | number;
        const y = b[key] as string | number;
        const c = x < y ? -1 : x > y ? 1 : 0;
        return desc ? -c : c;
      });
    }
    if (isInt(o.offset)) out = out.slice(o.offset);
    if (isInt(o.limit)) out = out.slice(0, o.limit);
    if (o.countOnly === true) return out.length;
    return out;
  };

  const lastEventBefore = (before: XValue | undefined) => {
    const evs = model.eventList();
    if (before === null || before === undefined) return evs.at(-1);
    const b = before instanceof Double ? before.value : Number(before);
    return [...evs].reverse().find((e) => e.ts < b);
  };
  const eventStruct = (e: EventRow): Struct => ({ id: e.id, ts: new Double(e.ts) });

  def("getAPIVersion", "RootExports.getAPIVersion", true, [], 0, () => 1);
  def("getKojiVersion", "RootExports.getKojiVersion", true, [], 0, () => version);
  def("getLastEvent", "RootExports.getLastEvent", true, ["before", "strict"], 0, (a) => {
    const e = lastEventBefore(a.before);
    if (!e) {
      if (a.strict === false) return null;
      throw generic("query returned no rows");
    }
    return eventStruct(e);
  });
  def("getEvent", "get_event", false, ["id", "strict"], 1, (a) => {
    const e = isInt(a.id) ? model.eventRow(a.id) : undefined;
    if (!e) {
      if (a.strict === false) return null;
      throw generic("query returned no rows");
    }
    return eventStruct(e);
  });
  def("getTag", "get_tag", false, ["tagInfo", "strict", "event", "blocked"], 1, (a) => {
    if (a.event === "auto") {
      if (typeof a.tagInfo !== "string" && !isInt(a.tagInfo)) {
        throw generic(`Invalid type for tagInfo: ${pyType(a.tagInfo)}`);
      }
      const found = model.findTag(a.tagInfo, "auto");
      if (!found) {
        if (a.strict === true) throw generic(tagInfoText(a.tagInfo));
        return null;
      }
      const ev = found.revoke === null ? Number.POSITIVE_INFINITY : found.revoke - 1;
      return tagStruct({ tag: found.tag, event: ev }, a.event, { revoke: found.revoke });
    }
    const q = getTag(a.tagInfo, a.strict === true, eventArg(a.event));
    return q ? tagStruct(q, a.event) : null;
  });
  def("getTagID", "get_tag_id", false, ["info", "strict", "create"], 1, (a) => {
    if (a.strict === true) return tagIdStrict(a.info);
    return typeof a.info === "string" || isInt(a.info) ? (model.tagIdByName(a.info) ?? null) : null;
  });
  def("getInheritanceData", "readInheritanceData", false, ["tag", "event"], 1, (a) => {
    const id = tagIdStrict(a.tag);
    return model.inheritanceData(id, eventArg(a.event)).map((l) => linkStruct(l, false));
  });
  def(
    "getFullInheritance",
    "RootExports.getFullInheritance",
    true,
    ["tag", "event", "reverse", "stops", "jumps"],
    1,
    (a) => {
      const id = tagIdStrict(a.tag);
      const reverse = isTrue(a.reverse);
      return model.fullInheritance(id, eventArg(a.event), reverse).map((l) => ({
        ...linkStruct(l.row, reverse),
        currdepth: l.currdepth,
        filter: l.filter,
        nextdepth: l.nextdepth,
      }));
    },
  );
  def(
    "listTagged",
    "RootExports.listTagged",
    true,
    [
      "tag",
      "event",
      "inherit",
      "prefix",
      "latest",
      "package",
      "owner",
      "type",
      "strict",
      "extra",
      "draft",
    ],
    1,
    (a) => {
      const type = checkType(a.type);
      const q = getTag(a.tag, a.strict !== false, eventArg(a.event));
      if (!q) return [];
      if (a.draft === true) return [];
      return model
        .taggedBuilds(q, {
          inherit: isTrue(a.inherit),
          latest: latestArg(a.latest),
          package: strOrUndef(a.package) || undefined,
          owner: strOrUndef(a.owner),
          prefix: strOrUndef(a.prefix),
          type,
        })
        .map((t) => taggedStruct(t, isTrue(a.extra)));
    },
  );
  def(
    "listTaggedRPMS",
    "RootExports.listTaggedRPMS",
    true,
    [
      "tag",
      "event",
      "inherit",
      "latest",
      "package",
      "arch",
      "rpmsigs",
      "owner",
      "type",
      "strict",
      "extra",
      "draft",
    ],
    1,
    (a) => {
      const type = checkType(a.type);
      const q = getTag(a.tag, a.strict !== false, eventArg(a.event));
      if (!q) return [];
      const archSet = arches(a.arch, "arch");
      const tagged =
        a.draft !== true
          ? model.taggedBuilds(q, {
              inherit: isTrue(a.inherit),
              latest: latestArg(a.latest),
              package: strOrUndef(a.package) || undefined,
              owner: strOrUndef(a.owner),
              type,
            })
          : [];
      const byBuild = new Map<number, number>();
      for (const t of tagged) byBuild.set(t.build.id, t.tagId);
      const extra = a.extra !== false && a.extra !== 0;
      const rpms: Struct[] = [];
      for (const tagId of model.searchOrder(q, isTrue(a.inherit))) {
        const here = tagged
          .filter((t) => t.tagId === tagId && byBuild.get(t.build.id) === tagId)
          .flatMap((t) => model.rpmsOf(t.build.id))
          .filter((r) => !archSet || archSet.has(r.arch));
        const unique = [...new Map(here.map((r) => [r.id, r])).values()].sort(
          (x, y) => x.id - y.id,
        );
        for (const r of unique) {
          if (isTrue(a.rpmsigs)) {
            const sigs = model.sigsOf(r.id);
            if (sigs.length === 0) rpms.push({ ...taggedRpmStruct(r, extra), sigkey: null });
            for (const s of sigs) rpms.push({ ...taggedRpmStruct(r, extra), sigkey: s.sigkey });
          } else {
            rpms.push(taggedRpmStruct(r, extra));
          }
        }
      }
      return [rpms, tagged.map((t) => taggedStruct(t, false))];
    },
  );
  def("search", "RootExports.search", true, ["terms", "type", "matchType", "queryOpts"], 3, (a) => {
    const terms = typeof a.terms === "string" ? a.terms : "";
    const types = ["package", "build", "tag", "target", "user", "host", "rpm", "maven", "win"];
    if (typeof a.type !== "string" || !types.includes(a.type))
      throw generic(`No such search type: ${pyRepr(a.type ?? null)}`);
    let match: (name: string) => boolean;
    if (a.matchType === "glob") {
      // fnmatch-style, case insensitive (Koji turns the glob into an ILIKE pattern).
      const re = terms
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
      const rx = new RegExp(`^${re}$`, "i");
      match = (n) => rx.test(n);
    } else if (a.matchType === "regexp") {
      const rx = new RegExp(terms);
      match = (n) => rx.test(n);
    } else match = (n) => n === terms;
    // Only builds are searched in this model (what module resolution needs).
    if (a.type !== "build") return [];
    const rows = model
      .allBuilds()
      .map((b) => ({ id: b.id, name: `${b.name}-${b.version}-${b.release}` }))
      .filter((r) => match(r.name));
    return applyQueryOpts(rows, a.queryOpts);
  });
  def(
    "listArchives",
    "RootExports.listArchives",
    true,
    [
      "buildID",
      "buildrootID",
      "componentBuildrootID",
      "hostID",
      "type",
      "filename",
      "size",
      "checksum",
      "checksum_type",
      "typeInfo",
      "queryOpts",
      "imageID",
      "archiveID",
      "strict",
    ],
    0,
    (a) => {
      const type = a.type === null || a.type === undefined ? undefined : a.type;
      if (type !== undefined && !["maven", "win", "image", "module", "rpm"].includes(String(type)))
        throw generic(`unsupported archive type: ${type}`);
      const builds = isInt(a.buildID)
        ? [model.buildById(a.buildID)].filter((b): b is BuildRow => b !== undefined)
        : [...model.allBuilds()];
      const rows: Struct[] = [];
      for (const b of builds)
        for (const ar of b.archives ?? []) {
          if (type !== undefined && type !== "module") continue;
          if (typeof a.filename === "string" && ar.filename !== a.filename) continue;
          rows.push({
            btype: "module",
            btype_id: 4,
            build_id: ar.build,
            buildroot_id: null,
            checksum: ar.checksum,
            checksum_type: 0,
            compressed_size: null,
            extra: null,
            filename: ar.filename,
            id: ar.id,
            metadata_only: false,
            size: ar.size,
            type_description: "Text file",
            type_extensions: "txt",
            type_id: 4,
            type_name: "txt",
          });
        }
      return applyQueryOpts(rows, a.queryOpts);
    },
  );
  def("getBuild", "get_build", false, ["buildInfo", "strict"], 1, (a) => {
    const b = findBuild(a.buildInfo, a.strict === true);
    return b ? getBuildStruct(b) : null;
  });
  def("listBuildRPMs", "RootExports.listBuildRPMs", true, ["build"], 1, (a) => {
    const b = findBuild(a.build, true) as BuildRow;
    return model.rpmsOf(b.id).map((r) => rpmStruct(r, true));
  });
  def(
    "listRPMs",
    "list_rpms",
    false,
    [
      "buildID",
      "buildrootID",
      "imageID",
      "componentBuildrootID",
      "hostID",
      "arches",
      "queryOpts",
      "draft",
    ],
    0,
    (a) => {
      const archSet = arches(a.arches, "arches");
      let rows: RpmRow[] = [];
      // Imported RPMs have no buildroot, image or host: those filters match nothing.
      const other = [a.buildrootID, a.imageID, a.componentBuildrootID, a.hostID];
      if (other.some((x) => x !== null && x !== undefined)) rows = [];
      else if (isInt(a.buildID)) rows = model.rpmsOf(a.buildID);
      else if (a.buildID === null || a.buildID === undefined) rows = [...model.allRpms()];
      if (a.draft === true) rows = [];
      const out = rows
        .filter((r) => !archSet || archSet.has(r.arch))
        .map((r) => rpmStruct(r, true));
      return applyQueryOpts(out, a.queryOpts);
    },
  );
  const findRpm = (info: XValue | undefined, strict: boolean): RpmRow | undefined => {
    let r: RpmRow | undefined;
    let data: XValue;
    if (isInt(info)) {
      data = { id: info };
      r = model.rpmById(info);
    } else if (typeof info === "string" && /^\d+$/.test(info)) {
      data = { id: Number(info) };
      r = model.rpmById(Number(info));
    } else if (typeof info === "string") {
      const n = parseNvra(info);
      data = n;
      r = n.location === undefined || n.location === "INTERNAL" ? model.findRpm(n) : undefined;
    } else if (
      info &&
      typeof info === "object" &&
      !Array.isArray(info) &&
      !(info instanceof Double)
    ) {
      const s = info as Struct;
      data = s;
      if (isInt(s.id)) r = model.rpmById(s.id);
      else if ([s.name, s.version, s.release, s.arch].every((x) => typeof x === "string")) {
        const loc = s.location;
        r =
          loc === undefined || loc === null || loc === "INTERNAL"
            ? model.findRpm(s as { name: string; version: string; release: string; arch: string })
            : undefined;
      } else throw generic(`Invalid rpminfo: ${pyRepr(info)}`);
    } else throw generic(`Invalid type for rpminfo: ${pyType(info)}`);
    if (!r && strict) throw generic(`No such rpm: ${pyRepr(data)}`);
    return r;
  };
  def("getRPM", "get_rpm", false, ["rpminfo", "strict", "multi"], 1, (a) => {
    const r = findRpm(a.rpminfo, a.strict === true);
    if (isTrue(a.multi)) return r ? [rpmStruct(r, false)] : [];
    return r ? rpmStruct(r, false) : null;
  });
  def("queryRPMSigs", "query_rpm_sigs", false, ["rpm_id", "sigkey", "queryOpts"], 0, (a) => {
    let rpmId: number | undefined;
    if (a.rpm_id !== null && a.rpm_id !== undefined) {
      rpmId = isInt(a.rpm_id) ? a.rpm_id : (findRpm(a.rpm_id, true) as RpmRow).id;
    }
    const key = typeof a.sigkey === "string" ? a.sigkey.toLowerCase() : undefined;
    const rows = model
      .allSigs()
      .filter(
        (s) => (rpmId === undefined || s.rpm === rpmId) && (key === undefined || s.sigkey === key),
      )
      .map((s) => ({ rpm_id: s.rpm, sigkey: s.sigkey, sighash: s.sighash }));
    return applyQueryOpts(rows, a.queryOpts);
  });
  def("tagChangedSinceEvent", "tag_changed_since_event", false, ["event", "taglist"], 2, (a) => {
    const list = a.taglist;
    if (!Array.isArray(list) || list.length === 0) {
      throw new KojiFault(
        1,
        `<class 'psycopg2.errors.SyntaxError'>: syntax error at or near ")"\nLINE 1: ...WHERE (update_event > ${pyRepr(a.event ?? null)}) AND (tag_id IN ())\n`,
      );
    }
    if (!list.every(isInt)) {
      throw new KojiFault(
        1,
        "<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type integer: " +
          `"${list.find((x) => !isInt(x))}"`,
      );
    }
    const e = eventArg(a.event);
    return model.tagChangeEvents(list as number[]).some((x) => x > e);
  });
  def(
    "tagLastChangeEvent",
    "tag_last_change_event",
    false,
    ["tag", "before", "inherit"],
    1,
    (a) => {
      if (typeof a.tag !== "string" && !isInt(a.tag))
        throw generic(`Invalid type for tagInfo: ${pyType(a.tag)}`);
      const found = model.findTag(a.tag, "auto");
      if (!found) throw generic(tagInfoText(a.tag));
      const before = a.before === null || a.before === undefined ? undefined : eventArg(a.before);
      const ids = [found.tag.id];
      if (a.inherit !== false) {
        ids.push(
          ...model
            .fullInheritance(found.tag.id, before ?? Number.POSITIVE_INFINITY)
            .map((l) => l.tagId),
        );
      }
      const evs = model.tagChangeEvents(ids).filter((e) => before === undefined || e < before);
      return evs.length ? Math.max(...evs) : null;
    },
  );
  def(
    "login",
    "RootExports.login",
    true,
    ["username", "password", "opts", "renew", "exclusive"],
    2,
    () => {
      throw new KojiFault(1002, "invalid username or password");
    },
  );
  def("logout", "RootExports.logout", true, ["session_id"], 0, () => null);
  for (const [name, perm] of Object.entries(WRITE_METHODS)) {
    m.set(name, {
      py: `RootExports.${name}`,
      bound: true,
      // Koji checks the permission inside the call; any arguments reach that check here.
      params: Array.from({ length: 12 }, (_, i) => `arg${i}`),
      required: 0,
      fn: () => {
        throw new KojiFault(1004, `${perm} permission required (user not logged in)`);
      },
    });
  }
  return m;
}

// ---------------------------------------------------------------------------
// The servers

export interface KojiCall {
  method: string;
  params: unknown[];
  inMulticall: boolean;
  /** Ordinal of the HTTP request (1-based) that carried the call. */
  request: number;
}

export interface FileRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
  bytes: number;
}

export interface KojiHub {
  hubUrl: string;
  topurl: string;
  topdir: string;
  calls: KojiCall[];
  fileRequests: FileRequest[];
  /** XML-RPC HTTP requests answered (multiCall = 1), failures injected by failNext excluded. */
  xmlrpcRequests: number;
  failNext(n: number, how: "reset" | "offline" | "http500"): void;
  close(): Promise<void>;
}

function traceback(f: KojiFault): string[] {
  return [
    "Traceback (most recent call last):\n",
    '  File "/usr/lib/python3/site-packages/kojihub/kojixmlrpc.py", line 265, in _dispatch\n    ret = koji.util.call_with_argcheck(func, params, opts)\n',
    `${f.excClass}: ${f.faultString}\n`,
  ];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(server: Server): Promise<number> {
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port));
  });
}

export async function startKojiHub(
  model: KojiModel,
  opts: { version?: string } = {},
): Promise<KojiHub> {
  const version = opts.version ?? "1.35.3";
  const methods = makeMethods(model, version);
  const calls: KojiCall[] = [];
  const fileRequests: FileRequest[] = [];
  const failures: ("reset" | "offline" | "http500")[] = [];
  let requestNo = 0;
  let answered = 0;

  const dispatch = (method: string, params: XValue[]): XValue => {
    const def = methods.get(method);
    if (!def) throw generic(`Invalid method: ${method}`);
    return def.fn(bindArgs(def, params));
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      "Content-Type": "text/xml",
      "Content-Length": String(Buffer.byteLength(body)),
      "Koji-Version": version,
      ...headers,
    });
    res.end(body);
  };

  const hub = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path !== "/kojihub") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found\n");
        return;
      }
      if (req.method !== "POST") {
        const body =
          "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.";
        res.writeHead(405, {
          Allow: "POST",
          "Content-Type": "text/plain",
          "Content-Length": String(Buffer.byteLength(body)),
        });
        res.end(body);
        return;
      }
      const body = await readBody(req);
      const failure = failures.shift();
      if (failure === "reset") {
        req.socket.destroy();
        return;
      }
      if (failure === "http500") {
        const text = "Internal Server Error\n";
        res
          .writeHead(500, { "Content-Type": "text/plain", "Content-Length": String(text.length) })
          .end(text);
        return;
      }
      let call: { method: string; params: XValue[] };
      try {
        call = parseMethodCall(body);
      } catch (e) {
        const text = `Invalid request: ${(e as Error).message}`;
        res.writeHead(400, {
          "Content-Type": "text/plain",
          "Content-Length": String(Buffer.byteLength(text)),
        });
        res.end(text);
        return;
      }
      requestNo++;
      answered++;
      if (failure === "offline") {
        send(res, 200, dumpFault(1014, "database outage"));
        return;
      }
      if (call.method === "multiCall" || call.method === "system.multicall") {
        const [list] = call.params;
        if (call.params.length !== 1 || !Array.isArray(list)) {
          send(res, 200, dumpFault(1019, "multiCall() takes exactly one list argument"));
          return;
        }
        const results: XValue[] = list.map((entry) => {
          const e = (entry ?? {}) as Struct;
          const method = typeof e.methodName === "string" ? e.methodName : "";
          const params = Array.isArray(e.params) ? e.params : [];
          calls.push({ method, params, inMulticall: true, request: requestNo });
          try {
            if (method === "multiCall" || method === "system.multicall") {
              throw generic("multicall not allowed in multicall");
            }
            return [dispatch(method, params)];
          } catch (err) {
            const f =
              err instanceof KojiFault
                ? err
                : new KojiFault(1, `<class 'Exception'>: ${(err as Error).message}`);
            return { faultCode: f.faultCode, faultString: f.faultString, traceback: traceback(f) };
          }
        });
        send(res, 200, dumpResponse(results));
        return;
      }
      calls.push({
        method: call.method,
        params: call.params,
        inMulticall: false,
        request: requestNo,
      });
      try {
        send(res, 200, dumpResponse(dispatch(call.method, call.params)));
      } catch (err) {
        const f =
          err instanceof KojiFault
            ? err
            : new KojiFault(1, `<class 'Exception'>: ${(err as Error).message}`);
        send(res, 200, dumpFault(f.faultCode, f.faultString));
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });

  const root = resolve(model.topdir);
  const files = createServer((req, res) => {
    const method = req.method ?? "GET";
    const rawPath = new URL(req.url ?? "/", "http://x").pathname;
    const range = req.headers.range ?? null;
    const record = (status: number, bytes: number) =>
      fileRequests.push({ method, path: rawPath, range, status, bytes });
    const plain = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "Content-Type": "text/plain",
        "Content-Length": String(text.length),
        ...headers,
      });
      res.end(method === "HEAD" ? undefined : text);
      record(status, method === "HEAD" ? 0 : text.length);
    };
    if (method !== "GET" && method !== "HEAD") {
      plain(405, "Method Not Allowed\n", { Allow: "GET, HEAD" });
      return;
    }
    let path: string;
    try {
      path = resolve(join(root, decodeURIComponent(rawPath)));
    } catch {
      plain(400, "Bad Request\n");
      return;
    }
    if (path !== root && !path.startsWith(root + sep)) {
      plain(403, "Forbidden\n");
      return;
    }
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error("not a file");
      size = st.size;
    } catch {
      plain(404, "Not Found\n");
      return;
    }
    const type = path.endsWith(".rpm") ? "application/x-rpm" : "application/octet-stream";
    let start = 0;
    let end = size - 1;
    let status = 200;
    const headers: Record<string, string> = { "Content-Type": type, "Accept-Ranges": "bytes" };
    if (range !== null) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== "" || m[2] !== "")) {
        if (m[1] === "") {
          start = Math.max(0, size - Number(m[2]));
        } else {
          start = Number(m[1]);
          end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
        }
        if (
          start >= size ||
          (m[1] !== "" && m[2] !== "" && Number(m[2]) < start) ||
          (m[1] === "" && Number(m[2]) === 0)
        ) {
          plain(416, "Requested Range Not Satisfiable\n", { "Content-Range": `bytes */${size}` });
          return;
        }
        status = 206;
        headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
      }
    }
    const length = end - start + 1;
    headers["Content-Length"] = String(Math.max(0, length));
    res.writeHead(status, headers);
    if (method === "HEAD" || length <= 0) {
      res.end();
      record(status, 0);
      return;
    }
    record(status, length);
    createReadStream(path, { start, end }).pipe(res);
  });

  const [hubPort, filePort] = await Promise.all([listen(hub), listen(files)]);
  const result: KojiHub = {
    hubUrl: `http://127.0.0.1:${hubPort}/kojihub`,
    topurl: `http://127.0.0.1:${filePort}/`,
    topdir: model.topdir,
    calls,
    fileRequests,
    get xmlrpcRequests() {
      return answered;
    },
    failNext(n, how) {
      for (let i = 0; i < n; i++) failures.push(how);
    },
    close: async () => {
      const stop = (s: Server) =>
        new Promise<void>((ok) => {
          s.close(() => ok());
          s.closeAllConnections();
        });
      await Promise.all([stop(hub), stop(files)]);
    },
  };
  return result;
}
