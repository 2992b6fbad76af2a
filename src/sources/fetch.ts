import { open } from "node:fs/promises";
import { concatBytes } from "../rpm/bytes.ts";
import { fetchWithin } from "../timeout-signal.ts";
import { ComposeError } from "./errors.ts";
import { withRetries } from "./retry.ts";

/**
 * What went wrong with a request, for a `state_reason`: a timeout names the
 * setting, a dropped connection says so (undici's own words are "fetch
 * failed" and "terminated", with the real cause one level down).
 */
export function describeFailure(
  err: unknown,
  timeoutMs: number,
  setting: TimeoutSetting = "ODCS_DOWNLOAD_TIMEOUT_MS",
): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e?.name === "TimeoutError") return `no complete answer within ${timeoutMs} ms (${setting})`;
  const cause = e?.cause;
  if (
    cause?.code === "ECONNRESET" ||
    cause?.code === "UND_ERR_SOCKET" ||
    e?.message === "terminated"
  )
    return `the connection was closed before the answer was complete (${cause?.code ?? e.message})`;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  return cause?.message ? `${e.message}: ${cause.message}` : String(e?.message ?? err);
}

/** The setting a request's timeout comes from, named when it fires. */
export type TimeoutSetting =
  | "ODCS_DOWNLOAD_TIMEOUT_MS"
  | "ODCS_KOJI_TIMEOUT_MS"
  | "ODCS_MBS_TIMEOUT_MS"
  | "ODCS_PULP_TIMEOUT_MS";

/** The setting a size limit comes from, named in the refusal. */
type LimitSetting =
  | "ODCS_MAX_METADATA_BYTES"
  | "ODCS_MAX_REPOMD_BYTES"
  | "ODCS_MAX_PUNGI_METADATA_BYTES";

const tooLarge = (what: string, maxBytes: number, setting: LimitSetting) =>
  new ComposeError(`${what} is larger than ${maxBytes} bytes (${setting})`);

/**
 * GET a URL, each try with its own `timeoutMs`: a network failure, a timeout
 * or a 5xx/429 is tried again (`withRetries`: bounded, with backoff) and is
 * retryable for the job if it persists; other 4xx are final at once.
 */
export function fetchOk(url: string, signal: AbortSignal, timeoutMs: number): Promise<Response> {
  return withRetries(signal, () => fetchOnce(url, signal, timeoutMs));
}

async function fetchOnce(url: string, signal: AbortSignal, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetchWithin(url, { redirect: "error" }, signal, timeoutMs);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ComposeError(`fetching ${url} failed: ${describeFailure(err, timeoutMs)}`, {
      retryable: true,
      cause: err,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ComposeError(`fetching ${url} answered HTTP ${res.status}`, {
      retryable: res.status >= 500 || res.status === 429,
    });
  }
  return res;
}

/**
 * GET a metadata file as the chunks of its body, as they arrive. A body
 * that breaks off is a retryable failure; one past `maxBytes` (announced or
 * counted) is refused, and the download is cancelled at that point, so no
 * more than `maxBytes` plus one chunk is ever read. Stopping early cancels
 * the download.
 */
export async function fetchStream(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
  maxBytes: number,
  setting: LimitSetting = "ODCS_MAX_METADATA_BYTES",
): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetchOk(url, signal, timeoutMs);
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > maxBytes) {
    await res.body?.cancel();
    throw tooLarge(url, maxBytes, setting);
  }
  if (!res.body) throw new ComposeError(`${url} answered with no body`, { retryable: true });
  return bodyChunks(
    url,
    timeoutMs,
    res.body.getReader(),
    signal,
    () => {
      throw tooLarge(url, maxBytes, setting);
    },
    maxBytes,
  );
}

async function* bodyChunks(
  url: string,
  timeoutMs: number,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal: AbortSignal,
  refuse: () => never,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  let done = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        if (signal.aborted) throw err;
        throw new ComposeError(`fetching ${url} failed: ${describeFailure(err, timeoutMs)}`, {
          retryable: true,
          cause: err,
        });
      }
      if (next.done) {
        done = true;
        return;
      }
      total += next.value.length;
      if (total > maxBytes) refuse();
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** GET a small file (repomd.xml) whole, under the same rules as `fetchStream`. */
export async function fetchBytes(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
  maxBytes: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const body = await fetchStream(url, signal, timeoutMs, maxBytes, "ODCS_MAX_REPOMD_BYTES");
  for await (const part of body) parts.push(part);
  return concatBytes(parts);
}

/**
 * A small local file (repomd.xml) whole, refused past `maxBytes`: at most
 * `maxBytes + 1` bytes are read, whatever the file claims to be (a FIFO or
 * a character device such as /dev/zero has no useful size).
 */
export async function readLocalBounded(
  path: string,
  maxBytes: number,
  setting: LimitSetting = "ODCS_MAX_REPOMD_BYTES",
): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(Math.min(256 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return concatBytes(parts);
      parts.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, maxBytes, setting);
    }
  } finally {
    await fh.close();
  }
}
