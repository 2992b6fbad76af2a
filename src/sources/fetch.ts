import { readAll } from "../rpm/decompress.ts";
import { ComposeError } from "./errors.ts";

/** Metadata files larger than this are refused (a hostile or broken server). */
export const MAX_METADATA_BYTES = 2 * 1024 * 1024 * 1024;

/** GET a URL with a timeout; network failures and 5xx are retryable, 4xx are not. */
export async function fetchOk(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      redirect: "error",
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ComposeError(`fetching ${url} failed: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ComposeError(`fetching ${url} answered HTTP ${res.status}`, {
      retryable: res.status >= 500,
    });
  }
  return res;
}

/**
 * GET a metadata file as the chunks of its body, as they arrive. A body
 * that breaks off is a retryable failure; one past `MAX_METADATA_BYTES`
 * (announced or counted) is refused. Stopping early cancels the download.
 */
export async function fetchStream(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetchOk(url, signal, timeoutMs);
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > MAX_METADATA_BYTES) {
    await res.body?.cancel();
    throw new ComposeError(`${url} is larger than ${MAX_METADATA_BYTES} bytes`);
  }
  if (!res.body) throw new ComposeError(`${url} answered with no body`, { retryable: true });
  return bodyChunks(url, res.body.getReader(), signal);
}

async function* bodyChunks(
  url: string,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal: AbortSignal,
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
        throw new ComposeError(`fetching ${url} failed: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        });
      }
      if (next.done) {
        done = true;
        return;
      }
      total += next.value.length;
      if (total > MAX_METADATA_BYTES)
        throw new ComposeError(`${url} is larger than ${MAX_METADATA_BYTES} bytes`);
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
): Promise<Uint8Array> {
  return readAll(await fetchStream(url, signal, timeoutMs));
}
