/**
 * A specialised pull scanner for repodata XML (repomd, primary, filelists,
 * other). It is not a general XML parser: it walks tags with `indexOf`,
 * skips comments, processing instructions and DOCTYPE, reads attributes on
 * demand and decodes entities and CDATA only where they occur. That is
 * enough for createrepo-style metadata and several times faster than
 * building a DOM, which matters on 50 MB primaries.
 *
 * It reads a stream: `scanXml` holds only the text not yet consumed plus
 * the chunks that arrived since. A caller's step reads one whole unit (one
 * `<package>`); when the buffered text ends inside it, the scanner throws
 * `NEED_MORE`, and the step is run again from the unit's start once more
 * text is in. So steps must not act before they return.
 *
 * Element names are reported without their namespace prefix (`rpm:entry` →
 * `entry`): repodata never uses two prefixes for one local name.
 */

const GT = 62;
const SLASH = 47;
const BANG = 33;
const QMARK = 63;
const DQUOTE = 34;
const SQUOTE = 39;
const AMP = 38;

const NAMED_ENTITIES: Record<string, string> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/** Replace XML character and entity references in `s`. */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.charCodeAt(0) === 35) {
      const code =
        ref.charCodeAt(1) === 120 ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref] ?? whole;
  });
}

/**
 * A copy of `s` that does not keep alive the text it was sliced from. V8
 * keeps a substring of 13 or more characters as a view of its parent, so a
 * record holding one field of a chunk would hold the whole chunk. Reading a
 * character of a two-part concatenation makes V8 copy it into one fresh
 * string, and the collector then drops the concatenation's wrapper
 * (measured: a flat copy, ~50 ns; `(" " + s).slice(1)` leaves a view of a
 * copy, Buffer round trips take ~200 ns).
 */
export function detach(s: string): string {
  if (s.length < 13) return s;
  const copy = s.slice(0, 1) + s.slice(1);
  return copy.charCodeAt(copy.length - 1) >= 0 ? copy : s;
}

/**
 * One shared copy per distinct string (arch, versions, dep names, tag
 * names …): a repository repeats some tens of thousands of values across
 * millions of fields. `take` looks a value up where it lies in the buffer,
 * so a value seen before costs a hash over its characters and no
 * allocation; a new one is copied (`detach`), so it never pins a chunk.
 * Open addressing over FNV-1a: several times faster than slicing and
 * looking the slice up in a `Map`, which hashes in the runtime.
 */
export class Interner {
  /** Open-addressed slots: a hash, 0 for a free slot (no hash is 0, see `hash`), … */
  private hashes = new Int32Array(1024);
  /** … and the string; probing reads only `hashes` until one matches. */
  private keys = freeSlots(1024);
  private count = 0;
  /** Approximate heap bytes of the distinct strings held (see `record-size.ts`). */
  bytes = 0;

  /** The shared copy of `src.slice(start, end)`. */
  take(src: string, start: number, end: number): string {
    // V8 keeps one string per Latin-1 character: nothing to share.
    if (end - start <= 1) return src.slice(start, end);
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ src.charCodeAt(i), 0x01000193);
    return this.find(src, start, end, h || 1);
  }

  /**
   * As `take` for XML text: entity references are decoded first. Returns
   * `take`'s result in one pass over the characters when there are none.
   */
  takeXml(src: string, start: number, end: number): string {
    if (end - start <= 1) return src.slice(start, end);
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) {
      const c = src.charCodeAt(i);
      if (c === AMP) return this.get(decodeEntities(src.slice(start, end)));
      h = Math.imul(h ^ c, 0x01000193);
    }
    return this.find(src, start, end, h || 1);
  }

  /** The string `src.slice(start, end)` whose FNV-1a hash (never 0) is `h`. */
  private find(src: string, start: number, end: number, h: number): string {
    const hashes = this.hashes;
    const mask = hashes.length - 1;
    let slot = h & mask;
    for (;;) {
      const at = hashes[slot] ?? 0;
      if (at === 0) break;
      if (at === h) {
        const k = this.keys[slot] ?? "";
        if (k.length === end - start && sameChars(src, start, k)) return k;
      }
      slot = (slot + 1) & mask;
    }
    const value = detach(src.slice(start, end));
    this.bytes += 32 + value.length;
    this.keys[slot] = value;
    hashes[slot] = h;
    if (++this.count * 2 > hashes.length) this.grow();
    return value;
  }

  /** The shared copy of `s`. */
  get(s: string): string {
    return this.take(s, 0, s.length);
  }

  private grow(): void {
    const { keys, hashes } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.keys = freeSlots(hashes.length * 2);
    const mask = this.hashes.length - 1;
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i] ?? 0;
      if (h === 0) continue;
      let slot = h & mask;
      while (this.hashes[slot] !== 0) slot = (slot + 1) & mask;
      this.hashes[slot] = h;
      this.keys[slot] = keys[i] ?? "";
    }
  }
}

/** Whether `k` occurs in `src` at `start` (`startsWith` is a call into the runtime). */
function sameChars(src: string, start: number, k: string): boolean {
  for (let i = 0; i < k.length; i++)
    if (src.charCodeAt(start + i) !== k.charCodeAt(i)) return false;
  return true;
}

/**
 * `n` empty slots in a packed array: `new Array(n)` past 100 000 elements
 * gives a dictionary-backed array, many times slower to index.
 */
function freeSlots(n: number): string[] {
  const slots: string[] = [];
  for (let i = 0; i < n; i++) slots.push("");
  return slots;
}

class NeedMore extends Error {}
/** Thrown by the scanner when the buffered text ends inside a construct. */
export const NEED_MORE: Error = new NeedMore("XML input ends here; more is coming");

const isNameEnd = (c: number) =>
  c === 32 || c === 9 || c === 10 || c === 13 || c === GT || c === SLASH;

export class XmlScanner {
  private src: string;
  private pos = 0;
  /** False while more text may follow: running out then throws `NEED_MORE`. */
  private final: boolean;
  /** Local name of the current tag. */
  name = "";
  /** True for `</x>`. */
  isEnd = false;
  /** True for `<x/>`. */
  isEmpty = false;
  private attrStart = 0;
  private attrEnd = 0;
  /** Attribute names of the current tag, filled by `readAttrs`; values by `attrValue(k)`. */
  readonly attrNames: string[] = [];
  private readonly attrStarts: number[] = [];
  private readonly attrEnds: number[] = [];
  attrCount = 0;
  private attrsRead = false;

  /** A scanner over the whole of `text`, or over its start when `final` is false. */
  constructor(text: string, final = true) {
    this.src = text;
    this.final = final;
  }

  /** Characters buffered and not yet consumed. */
  get pending(): number {
    return this.src.length - this.pos;
  }

  /**
   * Drop the consumed text and append `chunks`; `final` marks the end of
   * input. `join` builds one flat string: a `+` would leave a rope that
   * every later `charCodeAt` has to unwrap.
   */
  feed(chunks: string[], final: boolean): void {
    chunks.unshift(this.src.slice(this.pos));
    this.src = chunks.join("");
    this.pos = 0;
    this.final = final;
  }

  /** The last `n` characters buffered (fewer if there are not so many). */
  tail(n: number): string {
    return this.src.slice(Math.max(this.pos, this.src.length - n));
  }

  /**
   * Run `step` until it returns false (end of input) or the buffered text
   * runs out; then rewind to where the incomplete step began.
   */
  run(step: (x: XmlScanner) => boolean): void {
    for (;;) {
      const mark = this.pos;
      try {
        if (!step(this)) return;
      } catch (err) {
        if (err !== NEED_MORE) throw err;
        this.pos = mark;
        return;
      }
    }
  }

  /** Advance to the next start or end tag; false at the end of input. */
  next(): boolean {
    const s = this.src;
    for (;;) {
      const lt = s.indexOf("<", this.pos);
      if (lt < 0) {
        if (this.final) return false;
        throw NEED_MORE;
      }
      // A construct cut short below (`<!-`, `<![CDA`, `</na`) has no `>`
      // yet, so the searches for its end throw NEED_MORE.
      const c = s.charCodeAt(lt + 1);
      if (c === QMARK) {
        this.pos = this.skipPast(lt, "?>");
        continue;
      }
      if (c === BANG) {
        if (s.startsWith("<!--", lt)) this.pos = this.skipPast(lt, "-->");
        else if (s.startsWith("<![CDATA[", lt)) this.pos = this.skipPast(lt, "]]>");
        else this.pos = this.skipPast(lt, ">");
        continue;
      }
      const gt = this.findTagEnd(lt);
      this.isEnd = c === SLASH;
      let i = this.isEnd ? lt + 2 : lt + 1;
      const nameStart = i;
      let colon = -1;
      while (i < gt && !isNameEnd(s.charCodeAt(i))) {
        if (s.charCodeAt(i) === 58) colon = i;
        i++;
      }
      this.name = s.slice(colon >= 0 ? colon + 1 : nameStart, i);
      this.isEmpty = s.charCodeAt(gt - 1) === SLASH;
      this.attrStart = i;
      this.attrEnd = this.isEmpty ? gt - 1 : gt;
      this.attrCount = 0;
      this.attrsRead = false;
      this.pos = gt + 1;
      return true;
    }
  }

  /**
   * The value of one attribute of the current tag (full name, e.g.
   * `xml:base`). Like `text()`, a view of the buffer: `detach` it to keep it.
   */
  attr(name: string): string | undefined {
    const k = this.attrIndex(name);
    return k < 0 ? undefined : this.attrValue(k);
  }

  /** The value of `name` from `strings`, `undefined` when absent. */
  internAttr(name: string, strings: Interner): string | undefined {
    const k = this.attrIndex(name);
    return k < 0 ? undefined : this.internAttrValue(k, strings);
  }

  /** The value of the `k`-th attribute (see `readAttrs`), entities decoded. */
  attrValue(k: number): string {
    const raw = this.src.slice(this.attrStarts[k], this.attrEnds[k]);
    return raw.indexOf("&") >= 0 ? decodeEntities(raw) : raw;
  }

  /** As `attrValue`, the shared copy from `strings`. */
  internAttrValue(k: number, strings: Interner): string {
    return strings.takeXml(this.src, this.attrStarts[k] ?? 0, this.attrEnds[k] ?? 0);
  }

  /** Whether the `k`-th attribute's value, as written, is `s`. */
  attrIs(k: number, s: string): boolean {
    const start = this.attrStarts[k] ?? 0;
    return (this.attrEnds[k] ?? 0) - start === s.length && sameChars(this.src, start, s);
  }

  private attrIndex(name: string): number {
    this.readAttrs();
    for (let k = 0; k < this.attrCount; k++) if (this.attrNames[k] === name) return k;
    return -1;
  }

  /** Parse the current tag's attributes into `attrNames` and value positions. */
  readAttrs(): void {
    if (this.attrsRead) return;
    this.attrsRead = true;
    const s = this.src;
    let i = this.attrStart;
    const end = this.attrEnd;
    let n = 0;
    while (i < end) {
      const eq = s.indexOf("=", i);
      if (eq < 0 || eq >= end) break;
      let ns = i;
      while (ns < eq && s.charCodeAt(ns) <= 32) ns++;
      let ne = eq;
      while (ne > ns && s.charCodeAt(ne - 1) <= 32) ne--;
      let q = eq + 1;
      while (q < end && s.charCodeAt(q) <= 32) q++;
      const quote = s[q];
      const close = quote === '"' || quote === "'" ? s.indexOf(quote, q + 1) : -1;
      if (close < 0) break;
      this.attrNames[n] = s.slice(ns, ne);
      this.attrStarts[n] = q + 1;
      this.attrEnds[n] = close;
      n++;
      i = close + 1;
    }
    this.attrCount = n;
  }

  /**
   * The text content of the current element up to its end tag (which is
   * consumed), with CDATA sections and entities decoded. Nested elements
   * contribute their text. Empty for `<x/>`.
   */
  text(): string {
    if (this.isEmpty || this.isEnd) return "";
    const s = this.src;
    const lt = s.indexOf("<", this.pos);
    if (lt >= 0 && s.charCodeAt(lt + 1) === SLASH) {
      const raw = s.slice(this.pos, lt);
      this.pos = this.findTagEnd(lt) + 1;
      return raw.indexOf("&") >= 0 ? decodeEntities(raw) : raw;
    }
    return this.slowText();
  }

  /** As `text()`, the shared copy from `strings`. */
  internText(strings: Interner): string {
    if (this.isEmpty || this.isEnd) return "";
    const s = this.src;
    const start = this.pos;
    const lt = s.indexOf("<", start);
    if (lt >= 0 && s.charCodeAt(lt + 1) === SLASH) {
      this.pos = this.findTagEnd(lt) + 1;
      return strings.takeXml(s, start, lt);
    }
    return strings.get(this.slowText());
  }

  private slowText(): string {
    const s = this.src;
    let out = "";
    let depth = 0;
    for (;;) {
      const lt = s.indexOf("<", this.pos);
      if (lt < 0) return this.incomplete("element");
      out += decodeEntities(s.slice(this.pos, lt));
      if (s.startsWith("<![CDATA[", lt)) {
        const end = s.indexOf("]]>", lt + 9);
        if (end < 0) return this.incomplete("CDATA");
        out += s.slice(lt + 9, end);
        this.pos = end + 3;
        continue;
      }
      if (s.startsWith("<!--", lt)) {
        this.pos = this.skipPast(lt, "-->");
        continue;
      }
      const gt = this.findTagEnd(lt);
      this.pos = gt + 1;
      if (s.charCodeAt(lt + 1) === SLASH) {
        if (depth === 0) return out;
        depth--;
      } else if (s.charCodeAt(gt - 1) !== SLASH) depth++;
    }
  }

  /** Skip the rest of the current element, end tag included. */
  skipElement(): void {
    if (this.isEmpty || this.isEnd) return;
    let depth = 0;
    while (this.next()) {
      if (this.isEnd) {
        if (depth === 0) return;
        depth--;
      } else if (!this.isEmpty) depth++;
    }
  }

  /** Index of the `>` closing the tag opened at `lt`, honouring quoted `>`. */
  private findTagEnd(lt: number): number {
    const s = this.src;
    const n = s.length;
    let quote = 0;
    for (let i = lt + 1; i < n; i++) {
      const c = s.charCodeAt(i);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === GT) return i;
      else if (c === DQUOTE || c === SQUOTE) quote = c;
    }
    return this.incomplete("tag");
  }

  private skipPast(from: number, marker: string): number {
    const end = this.src.indexOf(marker, from);
    if (end < 0) return this.incomplete(`${marker} construct`);
    return end + marker.length;
  }

  private incomplete(what: string): never {
    if (!this.final) throw NEED_MORE;
    throw new Error(`unterminated ${what} in XML`);
  }
}

/** Characters gathered before a step runs: each batch's last unit is read twice. */
const MIN_BATCH_CHARS = 256 * 1024;

/**
 * Longest unit (one `<package>` with its text) held while waiting for its
 * end. The largest real ones are file lists of some 100 000 files, a few
 * MB; without a bound, text that never closes its element would be held
 * whole, however large the file.
 */
export const MAX_UNIT_CHARS = 64 * 1024 * 1024;

export interface ScanOptions {
  /** See `MIN_BATCH_CHARS`; tests use tiny batches to split input everywhere. */
  batchChars?: number;
  /**
   * The text that ends each unit a step reads (`</package>`). After a step
   * ran out of text, it is tried again only once this has arrived, so a
   * unit larger than a batch (a 2 MB package) is not re-read per chunk.
   */
  unitEnd: string;
  /** See `MAX_UNIT_CHARS`. */
  maxUnitChars?: number;
}

/**
 * Feed a stream of text through `step` (see `XmlScanner.run`). Throws what
 * `step` throws, and on input that ends inside a construct.
 */
export async function scanXml(
  chunks: AsyncIterable<string>,
  step: (x: XmlScanner) => boolean,
  opts: ScanOptions,
): Promise<void> {
  const batchChars = opts.batchChars ?? MIN_BATCH_CHARS;
  const unitEnd = opts.unitEnd;
  const maxUnitChars = opts.maxUnitChars ?? MAX_UNIT_CHARS;
  const x = new XmlScanner("", false);
  const parts: string[] = [];
  let buffered = 0;
  /** Tail of the text seen while waiting for `unitEnd`, to find one split across chunks. */
  let waitTail: string | undefined;
  for await (const chunk of chunks) {
    parts.push(chunk);
    buffered += chunk.length;
    if (x.pending + buffered > maxUnitChars + batchChars)
      throw new Error(
        `an element (up to ${unitEnd}) is longer than ${maxUnitChars} characters; this is not repository metadata`,
      );
    if (waitTail !== undefined) {
      const seam = waitTail + chunk.slice(0, unitEnd.length - 1);
      if (chunk.indexOf(unitEnd) < 0 && seam.indexOf(unitEnd) < 0) {
        waitTail = (waitTail + chunk).slice(-(unitEnd.length - 1));
        continue;
      }
      waitTail = undefined;
    }
    if (x.pending + buffered < batchChars) continue;
    x.feed(parts, false);
    parts.length = 0;
    buffered = 0;
    x.run(step);
    waitTail = x.pending > 0 ? x.tail(unitEnd.length - 1) : undefined;
  }
  x.feed(parts, true);
  x.run(step);
}
