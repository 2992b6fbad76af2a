/**
 * fast-check arbitraries from the service's own OpenAPI document: requests
 * that follow the documented schemas, and hostile mutations of them (types,
 * sizes, unicode, nesting, duplicate keys, huge numbers) for the fuzz tests.
 */
import fc from "fast-check";

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
};
export type OpenApiDoc = { components: { schemas: Record<string, JsonSchema> } };

/** A value that follows `schema` (small: arrays of up to 4, strings of up to 24). */
export function fromSchema(schema: JsonSchema, doc: OpenApiDoc, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split("/").at(-1) ?? "";
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`no schema ${schema.$ref}`);
    return fromSchema(target, doc, depth);
  }
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return fc.oneof(...alts.map((s) => fromSchema(s, doc, depth + 1)));
  if (schema.allOf?.[0]) return fromSchema(schema.allOf[0], doc, depth);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const props = schema.properties ?? {};
      const required = schema.required ?? [];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = fromSchema(s, doc, depth + 1);
      return fc.record(model, { requiredKeys: required.filter((k) => k in props) });
    }
    case "array":
      return fc.array(schema.items ? fromSchema(schema.items, doc, depth + 1) : fc.anything(), {
        maxLength: 4,
      });
    case "string":
      return schema.pattern
        ? fc.stringMatching(new RegExp(schema.pattern))
        : fc.string({ maxLength: Math.min(schema.maxLength ?? 24, 24) });
    case "integer":
      return fc.integer({
        min: Math.max(schema.minimum ?? -1_000_000, Number.MIN_SAFE_INTEGER),
        max: Math.min(schema.maximum ?? 1_000_000_000, Number.MAX_SAFE_INTEGER),
      });
    case "number":
      return fc.double({ noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.anything({ maxDepth: 2 });
  }
}

const deepNest = (depth: number, inArray: boolean): unknown => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = inArray ? [v] : { a: v };
  return v;
};

/** Values that break assumptions: wrong types, sizes, unicode, nesting, huge numbers. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    2 ** 64,
    -(2 ** 63),
    Number.MIN_VALUE,
    "",
    " ",
    "\u0000",
    "\uD800",
    "\u202Eevil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 日本語 🎉",
    "../../../../etc/passwd",
    "/srv/repos/a\n/etc",
    "%00%2e%2e",
    "a".repeat(5000),
    "x ".repeat(3000),
    [],
    {},
    { __proto__: { polluted: true } },
    JSON.parse('{"__proto__": {"polluted": true}}'),
    { constructor: { prototype: { x: 1 } } },
  ),
  fc.integer({ min: 1, max: 400 }).map((d) => deepNest(d, true)),
  fc.integer({ min: 1, max: 400 }).map((d) => deepNest(d, false)),
  fc.array(fc.string({ maxLength: 3 }), { minLength: 100, maxLength: 3000 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.anything({ maxDepth: 3 }),
);

/** Every path into a JSON value (the root is []). */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) paths(x, [...at, i], out);
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], with_: unknown): unknown {
  if (path.length === 0) return with_;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, with_) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head as string]: replaceAt(o[head as string], rest, with_) };
}

export type RawMutation = "none" | "duplicate-key" | "huge-literal" | "truncate" | "trailing";

/**
 * A value from `base`, then up to three of: a subtree replaced by a hostile
 * value, an unknown key added; then the JSON text itself mutated (a key
 * repeated with another value, a number literal no double can hold, cut
 * short, trailing garbage). Returns the body text.
 */
export function mutatedBody(base: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    value: hostileValue,
    addKey: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
  });
  return fc
    .tuple(
      base,
      fc.array(edit, { maxLength: 3 }),
      fc.constantFrom<RawMutation>(
        "none",
        "none",
        "duplicate-key",
        "huge-literal",
        "truncate",
        "trailing",
      ),
      fc.nat(),
    )
    .map(([value, edits, raw, cut]) => {
      let v = value;
      for (const e of edits) {
        const all = paths(v);
        const path = all[e.at % all.length] ?? [];
        v = replaceAt(v, path, e.value);
        if (e.addKey !== undefined && v !== null && typeof v === "object" && !Array.isArray(v))
          v = { ...(v as object), [e.addKey]: e.value };
      }
      const text = JSON.stringify(v) ?? "null";
      switch (raw) {
        case "duplicate-key":
          return text.startsWith("{") && text.length > 2
            ? `{"source": {"type": "repo", "source": "/srv/repos/a"}, ${text.slice(1)}`
            : text;
        case "huge-literal":
          return text.replace(/-?\d+(\.\d+)?/, `1${"0".repeat(400)}`);
        case "truncate":
          return text.slice(0, cut % Math.max(1, text.length));
        case "trailing":
          return `${text},]}`;
        default:
          return text;
      }
    });
}
