/**
 * XML escaping exactly as libxml2 2.9 serialises a node tree built without a
 * document (createrepo_c's `xmlNodeDump(buf, NULL, node, …)`), so that our
 * repodata is byte-identical to createrepo_c's for the same records.
 *
 * Text content: `&`, `<`, `>` and CR are escaped; everything else, including
 * `"` and non-ASCII characters, is written as UTF-8.
 *
 * Attribute values: additionally `"`, LF and TAB are escaped, and every
 * non-ASCII character becomes a hexadecimal character reference
 * (`Tomáš` → `Tom&#xE1;&#x161;`) — libxml2 does that for attributes whenever
 * the node has no document encoding, which is the case in createrepo_c.
 */

const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIAL_ALL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>"\n\r\t\u0080-\uffff]/;
const ATTR_ASCII_SPECIAL_ALL = /[&<>"\n\r\t]/g;

const TEXT_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\r": "&#13;",
};

const ATTR_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "\n": "&#10;",
  "\r": "&#13;",
  "\t": "&#9;",
};

function textEntity(ch: string): string {
  return TEXT_ENTITIES[ch] ?? ch;
}

function attrEntity(ch: string): string {
  return ATTR_ENTITIES[ch] ?? ch;
}

/** Escapes a string for use as element text content. */
export function escapeText(s: string): string {
  return TEXT_SPECIAL.test(s) ? s.replace(TEXT_SPECIAL_ALL, textEntity) : s;
}

/** Escapes a string for use inside a double-quoted attribute value. */
export function escapeAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  let out = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) continue;
    const cp = s.codePointAt(i) ?? code;
    out += `${s.slice(start, i).replace(ATTR_ASCII_SPECIAL_ALL, attrEntity)}&#x${cp.toString(16).toUpperCase()};`;
    if (cp > 0xffff) i++;
    start = i + 1;
  }
  return out + s.slice(start).replace(ATTR_ASCII_SPECIAL_ALL, attrEntity);
}
