import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  DomainError,
  InvalidRequestError,
  PayloadTooLargeError,
  RequestTimeoutError,
} from "../domain/errors.ts";
import { concatBytes } from "../rpm/bytes.ts";

/** Default of ODCS_MAX_BODY_BYTES: larger bodies are refused (413); a real request is a few kB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** ODCS's wording for a body that is not JSON (§1.2, non-debug). */
export const MALFORMED_JSON =
  "<p>The browser (or proxy) sent a request that this server could not understand.</p>";

const tooLarge = (maxBytes: number) =>
  new HTTPException(413, { message: `Request body larger than ${maxBytes} bytes` });

/** Default of ODCS_BODY_IDLE_SECONDS, in ms: longest wait for the next byte of a body. */
export const BODY_IDLE_MS = 60_000;

/** How much of a body to read and how long to wait for it, from the settings. */
export const bodyLimits = (config: {
  ODCS_MAX_BODY_BYTES: number;
  ODCS_BODY_IDLE_SECONDS: number;
}) => ({ maxBytes: config.ODCS_MAX_BODY_BYTES, idleMs: config.ODCS_BODY_IDLE_SECONDS * 1000 });

/**
 * `body` with a bound on the wait for each next chunk: a client that stops
 * sending (a byte-by-byte trickle with long pauses, a Content-Length larger
 * than what it sends, a chunked body never finished) gets a
 * `RequestTimeoutError` after `idleMs` instead of holding the request until
 * the server's request timeout. A body the client cut off (its connection
 * closed) becomes an `InvalidRequestError`, not an unexplained failure.
 * Only the client's pauses count: the clock runs while a chunk is wanted.
 */
export function withIdleTimeout(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RequestTimeoutError(
                `The request body stalled: no byte for ${idleMs / 1000} s (ODCS_BODY_IDLE_SECONDS)`,
              ),
            ),
          idleMs,
        );
      });
      try {
        const { done, value } = await Promise.race([reader.read(), stalled]);
        if (done) ctl.close();
        else ctl.enqueue(value);
      } catch (err) {
        reader.cancel().catch(() => {});
        ctl.error(bodyError(err));
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** What reading a body failed with, as the error its handler answers (408, 400). */
const bodyError = (err: unknown): DomainError =>
  err instanceof DomainError
    ? err
    : new InvalidRequestError(
        `The request body ended before it was complete (${err instanceof Error ? err.message : String(err)})`,
      );

/**
 * A body the Node server read before the app got the request
 * (`readBodyAhead`, src/node/write-gate.ts): its bytes (`null`: no body; at
 * most one byte more than allowed), or what reading it failed with.
 */
export type BodyRead =
  | { kind: "read"; bytes: Uint8Array | null }
  | { kind: "failed"; err: unknown };

/**
 * The key of the request's bindings (`app.fetch(req, env)`) under which a
 * `BodyRead` is handed to the app: the body is then taken from there, not
 * read from the request again.
 */
export const BODY_READ = "odcsBodyRead";

const bodyReadOf = (c: Context): BodyRead | undefined =>
  (c.env as { [BODY_READ]?: BodyRead } | undefined)?.[BODY_READ];

/**
 * The body bytes, refusing more than `MAX_BODY_BYTES` whether or not a
 * Content-Length announced them: a chunked upload is cut off as soon as it
 * passes the limit instead of being buffered whole. Waits at most `idleMs`
 * for each next chunk. A body read ahead (`BODY_READ`) meets the same
 * limits and errors without being read again.
 */
async function readLimited(c: Context, maxBytes: number, idleMs: number): Promise<Uint8Array> {
  const req = c.req.raw;
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const ahead = bodyReadOf(c);
  if (ahead?.kind === "failed") throw bodyError(ahead.err);
  if (ahead?.kind === "read") {
    if (ahead.bytes === null) return new Uint8Array(0);
    if (ahead.bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return ahead.bytes;
  }
  if (req.body === null) return new Uint8Array(0);
  const reader = withIdleTimeout(req.body, idleMs).getReader();
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
  opts: { allowEmpty: boolean; maxBytes?: number; idleMs?: number },
): Promise<unknown> {
  const buf = await readLimited(c, opts.maxBytes ?? MAX_BODY_BYTES, opts.idleMs ?? BODY_IDLE_MS);
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
 * like a JSON body: at most `maxBytes` (ODCS_MAX_BODY_BYTES, `idleMs` per chunk), refused with
 * `PayloadTooLargeError` before it is read whole; a body that is not a
 * well-formed form is an `InvalidRequestError`, never a 500. Any other
 * Content-Type yields no fields (the CSRF check then refuses the form).
 * When a field repeats, the last value counts (as Hono's `parseBody`).
 */
export async function readFormBody(
  c: Context,
  limits: { maxBytes: number; idleMs: number },
): Promise<Record<string, string | File>> {
  let buf: Uint8Array<ArrayBuffer>;
  try {
    buf = (await readLimited(c, limits.maxBytes, limits.idleMs)) as Uint8Array<ArrayBuffer>;
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
