import { ComposeError } from "../worker/errors.ts";

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

export async function fetchBytes(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Uint8Array> {
  const res = await fetchOk(url, signal, timeoutMs);
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > MAX_METADATA_BYTES)
    throw new ComposeError(`${url} is larger than ${MAX_METADATA_BYTES} bytes`);
  return new Uint8Array(await res.arrayBuffer());
}
