import type { Context } from "hono";
import { InvalidRequestError } from "../domain/errors.ts";

/** Larger bodies are refused before parsing; a real request is a few kB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** ODCS's wording for a body that is not JSON (§1.2, non-debug). */
export const MALFORMED_JSON = "<p>The browser (or proxy) sent a request that this server could not understand.</p>";

/**
 * Read a JSON body the way ODCS does: whatever the Content-Type, an empty or
 * non-UTF-8 body is malformed. `allowEmpty` (PATCH) turns an empty body into `{}`.
 */
export async function readJsonBody(c: Context, opts: { allowEmpty: boolean }): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new InvalidRequestError(`Request body larger than ${MAX_BODY_BYTES} bytes`);
  const buf = await c.req.arrayBuffer();
  if (buf.byteLength > MAX_BODY_BYTES) throw new InvalidRequestError(`Request body larger than ${MAX_BODY_BYTES} bytes`);
  if (buf.byteLength === 0 && opts.allowEmpty) return {};
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    throw new InvalidRequestError(MALFORMED_JSON);
  }
  if (text.trim() === "" && opts.allowEmpty) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError(MALFORMED_JSON);
  }
}
