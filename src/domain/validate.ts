import { z } from "zod";
import { InvalidRequestError } from "./errors.ts";
import {
  CreateComposeBody,
  type OdcsKind,
  odcsKinds,
  RenewComposeBody,
} from "./request-schemas.ts";

/**
 * ODCS's generic input validation (reference/odcs-api.md §7.3), applied to
 * POST and PATCH bodies before anything else looks at them, with upstream's
 * exact messages so clients and scripts that match on them keep working.
 */

/**
 * Upstream's key groups, read off the request schemas (the fields marked
 * with an `OdcsKind` there): like upstream, by name at any level.
 */
function keysOf(kind: OdcsKind): Set<string> {
  const keys = new Set<string>();
  const walk = (shape: Record<string, z.ZodType>) => {
    for (const [key, field] of Object.entries(shape)) {
      const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
      if (odcsKinds.get(inner)?.kind === kind) keys.add(key);
      if (inner instanceof z.ZodObject) walk(inner.shape);
    }
  };
  walk(CreateComposeBody.shape);
  walk(RenewComposeBody.shape);
  return keys;
}
const LIST_KEYS = keysOf("list");
const STRING_KEYS = keysOf("string");
const INT_KEYS = keysOf("int");
/** The key groups as derived, for tests to hold against §7.3's list. */
export const ODCS_KEY_GROUPS = { list: LIST_KEYS, string: STRING_KEYS, int: INT_KEYS };

const ALLOWED_PUNCT = [" ", "-", "/", "_", ".", ":", "#", "+", "?", "$", "~"];
const CHARS_MESSAGE = `Only alphanumerical characters and [${ALLOWED_PUNCT.map((c) => `'${c}'`).join(", ")}] characters are allowed in ODCS input variables`;
const SAFE_STRING = /^[\p{L}\p{N} \-/_.:#+?$~]*$/u;

/**
 * A real body nests three levels (source → list → item). The limit keeps a
 * hostile `[[[[…]]]]` from exhausting the stack (a 500) — our addition.
 */
export const MAX_DEPTH = 32;

function check(key: string, value: unknown, depth: number, inPackages: boolean): void {
  if (depth > MAX_DEPTH)
    throw new InvalidRequestError(`Request body is nested deeper than ${MAX_DEPTH} levels`);
  if (LIST_KEYS.has(key) && !Array.isArray(value)) {
    throw new InvalidRequestError(`${key} should be a list`);
  }
  if (STRING_KEYS.has(key) && typeof value !== "string") {
    throw new InvalidRequestError(`${key} should be a string`);
  }
  if (INT_KEYS.has(key) && !(typeof value === "boolean" || Number.isInteger(value))) {
    throw new InvalidRequestError(`${key} should be an integer`);
  }
  // A JSON number like 1.0 parses to an integer in JS; ODCS rejects floats,
  // but the distinction is lost at JSON.parse. We accept 1.0 as 1.
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    if (!(key === "source" && depth === 0)) {
      throw new InvalidRequestError("Only 'source' key is allowed to contain dict.");
    }
    for (const [k, v] of Object.entries(value)) check(k, v, depth + 1, false);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      check(String(i), item, depth + 1, key === "packages");
    });
    return;
  }
  if (typeof value === "string") {
    if (!inPackages && !SAFE_STRING.test(value)) throw new InvalidRequestError(CHARS_MESSAGE);
    return;
  }
  if (typeof value === "number" || typeof value === "boolean") return;
  throw new InvalidRequestError(
    `Only dict, list, str, unicode, int, float and bool types are allowed in ODCS input variables, but '${key}' has '<class 'NoneType'>' type`,
  );
}

/** Throws `InvalidRequestError` with ODCS's message for the first bad value in document order. */
export function validateOdcsInput(body: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(body)) check(k, v, 0, false);
}
