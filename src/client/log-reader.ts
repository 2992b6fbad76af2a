/**
 * Tails a compose log over HTTP as the ODCS client does (§18): each `read()`
 * asks for `Range: bytes=<offset>-`; 404 means no log yet and 416 nothing
 * new, both "". Unlike ODCS's reader, the offset counts bytes (ODCS counts
 * characters, which re-reads multi-byte text) and a UTF-8 sequence split
 * between two reads is kept for the next. A server that ignores Range (200)
 * still works: the bytes already read are skipped. Sends no credentials.
 */
export class LogReader {
  #offset = 0;
  readonly #decoder = new TextDecoder();

  constructor(
    readonly url: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  get offset(): number {
    return this.#offset;
  }

  async read(signal?: AbortSignal): Promise<string> {
    const res = await this.fetchFn(this.url, {
      headers: { Range: `bytes=${this.#offset}-` },
      ...(signal ? { signal } : {}),
    });
    if (res.status === 404 || res.status === 416) {
      await res.body?.cancel();
      return "";
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${res.status} reading ${this.url}`);
    }
    let bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status === 200) bytes = bytes.subarray(Math.min(this.#offset, bytes.length));
    this.#offset += bytes.length;
    return this.#decoder.decode(bytes, { stream: true });
  }
}
