/**
 * XML-RPC as Koji speaks it (reference/koji.md §2): `<nil/>` both ways,
 * `<i8>` for ints outside 32 bits, keyword arguments as a last struct with
 * `__starstar`, faults as `{faultCode, faultString}`. Pure (strings in and
 * out); the HTTP part is `client.ts`.
 *
 * The decoder is a small pull tokenizer over the response text rather than a
 * general XML library: a Koji response is a handful of element kinds, and a
 * `listTaggedRPMS` of a large tag is several megabytes of them, which a DOM
 * (xmldom, the `xmlrpc` package's sax callbacks) builds many times slower.
 * Entity decoding is the repodata scanner's (`rpm/xml-scan.ts`).
 */

import { decodeEntities } from "../../rpm/xml-scan.ts";

export type XmlRpcValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | XmlRpcValue[]
  | { [key: string]: XmlRpcValue };

export type XmlRpcStruct = { [key: string]: XmlRpcValue };

/** A response that is not well-formed XML-RPC. */
export class XmlRpcParseError extends Error {
  override name = "XmlRpcParseError";
}

/** `{faultCode, faultString}` as the server sent it. */
export interface XmlRpcFault {
  faultCode: number;
  faultString: string;
}

export type XmlRpcResponse = { ok: true; value: XmlRpcValue } | { ok: false; fault: XmlRpcFault };

/** Keyword arguments: sent as Koji's `__starstar` struct after the positional ones. */
export type Kwargs = Record<string, XmlRpcValue | undefined>;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** One `<value>`. Integers beyond 32 bits go as `<i8>`; other numbers as `<double>`. */
export function encodeValue(v: XmlRpcValue): string {
  if (v === null) return "<value><nil/></value>";
  if (typeof v === "boolean") return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === "number") {
    if (Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`integer ${v} is not exact`);
      return v >= INT32_MIN && v <= INT32_MAX
        ? `<value><int>${v}</int></value>`
        : `<value><i8>${v}</i8></value>`;
    }
    if (!Number.isFinite(v)) throw new RangeError(`${v} cannot be sent over XML-RPC`);
    return `<value><double>${v}</double></value>`;
  }
  if (typeof v === "string") return `<value><string>${escapeText(v)}</string></value>`;
  if (v instanceof Uint8Array) return `<value><base64>${base64(v)}</base64></value>`;
  if (Array.isArray(v))
    return `<value><array><data>${v.map(encodeValue).join("")}</data></array></value>`;
  const members = Object.entries(v)
    .map(([k, x]) => `<member><name>${escapeText(k)}</name>${encodeValue(x)}</member>`)
    .join("");
  return `<value><struct>${members}</struct></value>`;
}

/** The positional params plus, when any keyword is set, Koji's `__starstar` struct. */
export function callParams(args: readonly XmlRpcValue[], kwargs?: Kwargs): XmlRpcValue[] {
  const params = [...args];
  const set = Object.entries(kwargs ?? {}).filter(
    (e): e is [string, XmlRpcValue] => e[1] !== undefined,
  );
  if (set.length > 0) params.push({ ...Object.fromEntries(set), __starstar: true });
  return params;
}

/** A whole `methodCall` document. */
export function encodeCall(method: string, params: readonly XmlRpcValue[]): string {
  const ps = params.map((p) => `<param>${encodeValue(p)}</param>`).join("");
  return `<?xml version='1.0'?>\n<methodCall><methodName>${escapeText(method)}</methodName><params>${ps}</params></methodCall>\n`;
}

/** Pull tokenizer over one document: start tags, end tags and the text between them. */
class Tokens {
  private pos = 0;
  constructor(private readonly s: string) {}

  /** The next start or end tag (`name`, or `/name`, `name/` for empty ones), skipping text, comments and PIs. */
  tag(): string {
    const s = this.s;
    for (;;) {
      const lt = s.indexOf("<", this.pos);
      if (lt < 0) throw new XmlRpcParseError("unexpected end of the response");
      const c = s.charCodeAt(lt + 1);
      if (c === 63 /* ? */ || c === 33 /* ! */) {
        const end = s.indexOf(c === 63 ? "?>" : ">", lt);
        if (end < 0) throw new XmlRpcParseError("unterminated construct in the response");
        this.pos = end + 1;
        continue;
      }
      const gt = s.indexOf(">", lt);
      if (gt < 0) throw new XmlRpcParseError("unterminated tag in the response");
      this.pos = gt + 1;
      let body = s.slice(lt + 1, gt).trim();
      // Attributes carry nothing in XML-RPC; namespace prefixes neither.
      const sp = body.search(/[\s/]/);
      if (sp > 0) body = body.slice(0, sp) + (body.endsWith("/") ? "/" : "");
      return body;
    }
  }

  /** Text up to the next tag (entities decoded), leaving the position at that tag. */
  text(): string {
    const lt = this.s.indexOf("<", this.pos);
    if (lt < 0) throw new XmlRpcParseError("unexpected end of the response");
    const raw = this.s.slice(this.pos, lt);
    this.pos = lt;
    return decodeEntities(raw);
  }

  /** Whether only whitespace stands before the next tag, which is a start tag. */
  atChild(): boolean {
    const lt = this.s.indexOf("<", this.pos);
    if (lt < 0 || this.s.charCodeAt(lt + 1) === 47 /* / */) return false;
    for (let i = this.pos; i < lt; i++) if (this.s.charCodeAt(i) > 32) return false;
    return true;
  }

  expect(name: string): void {
    const t = this.tag();
    if (t !== name) throw new XmlRpcParseError(`expected <${name}>, found <${t}>`);
  }
}

function scalarText(t: Tokens, name: string): string {
  const text = t.text();
  t.expect(`/${name}`);
  return text;
}

function parseInt64(text: string, kind: string): number {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) throw new XmlRpcParseError(`bad <${kind}> value "${text}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new XmlRpcParseError(`<${kind}> ${s} does not fit a double`);
  return n;
}

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The content of a `<value>` whose start tag was just read; consumes `</value>`. */
function parseValueBody(t: Tokens): XmlRpcValue {
  if (!t.atChild()) {
    // Bare text inside <value> is a string (also `<value></value>`).
    const text = t.text();
    t.expect("/value");
    return text;
  }
  const kind = t.tag();
  let v: XmlRpcValue;
  switch (kind) {
    case "nil/":
    case "nil":
      if (kind === "nil") t.expect("/nil");
      v = null;
      break;
    case "string/":
      v = "";
      break;
    case "string":
      v = scalarText(t, kind);
      break;
    case "int":
    case "i4":
    case "i8":
      v = parseInt64(scalarText(t, kind), kind);
      break;
    case "boolean": {
      const b = scalarText(t, kind).trim();
      if (b !== "0" && b !== "1") throw new XmlRpcParseError(`bad <boolean> value "${b}"`);
      v = b === "1";
      break;
    }
    case "double": {
      const d = Number(scalarText(t, kind).trim());
      if (Number.isNaN(d)) throw new XmlRpcParseError("bad <double> value");
      v = d;
      break;
    }
    case "dateTime.iso8601":
      v = scalarText(t, kind).trim();
      break;
    case "base64":
      v = decodeBase64(scalarText(t, kind));
      break;
    case "base64/":
      v = new Uint8Array(0);
      break;
    case "array":
      v = parseArray(t);
      break;
    case "struct/":
      v = {};
      break;
    case "struct":
      v = parseStruct(t);
      break;
    default:
      throw new XmlRpcParseError(`unknown value type <${kind}>`);
  }
  t.expect("/value");
  return v;
}

function parseArray(t: Tokens): XmlRpcValue[] {
  const out: XmlRpcValue[] = [];
  const data = t.tag();
  if (data === "data/") {
    t.expect("/array");
    return out;
  }
  if (data !== "data") throw new XmlRpcParseError(`expected <data>, found <${data}>`);
  for (;;) {
    const tag = t.tag();
    if (tag === "/data") break;
    if (tag !== "value") throw new XmlRpcParseError(`expected <value> in <data>, found <${tag}>`);
    out.push(parseValueBody(t));
  }
  t.expect("/array");
  return out;
}

function parseStruct(t: Tokens): XmlRpcStruct {
  const out: XmlRpcStruct = {};
  for (;;) {
    const tag = t.tag();
    if (tag === "/struct") return out;
    if (tag !== "member") throw new XmlRpcParseError(`expected <member>, found <${tag}>`);
    t.expect("name");
    const name = scalarText(t, "name");
    t.expect("value");
    const value = parseValueBody(t);
    t.expect("/member");
    // Own property even for "__proto__": a hostile name must not reach the prototype.
    Object.defineProperty(out, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

/** A whole `methodResponse`: its single result, or its fault. */
export function decodeResponse(xml: string): XmlRpcResponse {
  const t = new Tokens(xml);
  t.expect("methodResponse");
  const first = t.tag();
  if (first === "fault") {
    t.expect("value");
    const v = parseValueBody(t);
    return { ok: false, fault: asFault(v) ?? badFault() };
  }
  if (first !== "params")
    throw new XmlRpcParseError(`expected <params> or <fault>, found <${first}>`);
  t.expect("param");
  t.expect("value");
  const value = parseValueBody(t);
  return { ok: true, value };
}

function badFault(): never {
  throw new XmlRpcParseError("a fault without an integer faultCode and a string faultString");
}

/** `v` as a fault struct (a multicall slot or a `<fault>` value), else `undefined`. */
export function asFault(v: XmlRpcValue): XmlRpcFault | undefined {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    return undefined;
  const code = v.faultCode;
  const text = v.faultString;
  if (typeof code !== "number" || typeof text !== "string") return undefined;
  return { faultCode: code, faultString: text };
}
