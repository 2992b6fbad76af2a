import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { InvalidRequestError, PayloadTooLargeError } from "../domain/errors.ts";
import { concatBytes } from "../rpm/bytes.ts";

/** Default of ODCS_MAX_BODY_BYTES: larger bodies are refused (413); a real request is a few kB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** ODCS's wording for a body that is not JSON (§1.2, non-debug). */
export const MALFORMED_JSON =
  "<p>The browser (or proxy) sent a request that this server could not understand.</p>";

const tooLarge = (maxBytes: number) =>
  new HTTPException(413, { message: `Request body larger than ${maxBytes} bytes` });

/**
 * The body bytes, refusing more than `MAX_BODY_BYTES` whether or not a
 * Content-Length announced them: a chunked upload is cut off as soon as it
 * passes the limit instead of being buffered whole.
 */
async function readLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/**
 * Read a JSON body (at most `maxBytes`, default `MAX_BODY_BYTES`) the way ODCS does: whatever the Content-Type, an empty or
 * non-UTF-8 body is malformed. `allowEmpty` (PATCH, whose client may send no
 * body at all) turns an empty body into `{}`.
 */
export async function readJsonBody(
  c: Context,
  opts: { allowEmpty: boolean; maxBytes?: number },
): Promise<unknown> {
  const buf = await readLimited(c.req.raw, opts.maxBytes ?? MAX_BODY_BYTES);
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

/**
 * The fields of an HTML form POST (urlencoded or multipart/form-data), read
 * like a JSON body: at most `maxBytes` (ODCS_MAX_BODY_BYTES), refused with
 * `PayloadTooLargeError` before it is read whole; a body that is not a
 * well-formed form is an `InvalidRequestError`, never a 500. Any other
 * Content-Type yields no fields (the CSRF check then refuses the form).
 * When a field repeats, the last value counts (as Hono's `parseBody`).
 */
export async function readFormBody(
  c: Context,
  maxBytes: number,
): Promise<Record<string, string | File>> {
  let buf: Uint8Array<ArrayBuffer>;
  try {
    buf = (await readLimited(c.req.raw, maxBytes)) as Uint8Array<ArrayBuffer>;
  } catch (err) {
    if (err instanceof HTTPException && err.status === 413)
      throw new PayloadTooLargeError(err.message);
    throw err;
  }
  const type = c.req.header("content-type") ?? "";
  const kind = type.split(";")[0]?.trim().toLowerCase();
  // No prototype: a field named __proto__ is a field like any other.
  const fields: Record<string, string | File> = Object.create(null);
  if (kind !== "application/x-www-form-urlencoded" && kind !== "multipart/form-data") return fields;
  let form: FormData;
  try {
    form = await new Response(buf, { headers: { "content-type": type } }).formData();
  } catch (err) {
    throw new InvalidRequestError(
      `The form cannot be read: ${(err as Error).message.replace(/\.$/, "")}`,
    );
  }
  for (const [key, value] of form.entries()) fields[key] = value;
  return fields;
}
