import type { IncomingMessage } from "node:http";
import { BODY_READ, type BodyRead, withIdleTimeout } from "../api/body.ts";
import { errorBody, statusOf } from "../api/errors.ts";
import { DomainError, InvalidRequestError, RequestTimeoutError } from "../domain/errors.ts";
import { concatBytes } from "../rpm/bytes.ts";

/**
 * Writes take turns; reads never wait for them.
 *
 * Why: one Node process serves every request on one thread, and a compose
 * create costs ~2 ms of it (HTTP, body, validation, the transaction, the
 * answer). Node runs a request's handler straight from its socket's read
 * callback, and one event-loop turn runs the callbacks of every socket that
 * became readable: under a flood of 64 creates at a time a turn did 64 of
 * them back to back, so a GET arriving meanwhile waited for two such turns —
 * p50 ~100 ms against 0.2 ms idle, and with bursts a few seconds
 * (`npm run bench -- flood`). Here a write request only starts in a later turn
 * (`setImmediate`, after that turn's I/O), one per turn and at most `limit`
 * at once: between two writes every GET that arrived is answered. Writes
 * still use the thread whenever no read needs it.
 *
 * The API's writes now run on the write thread (`write-thread.ts`); what
 * still takes a turn here is the dashboard's forms and a write whose body
 * must be refused (too large, stalled, cut off).
 */
export class WriteGate {
  #active = 0;
  #waiting: (() => void)[] = [];
  #scheduled = false;

  constructor(private readonly limit: number) {}

  /** Waits for a turn; resolves to the function that ends it (idempotent). */
  async enter(): Promise<() => void> {
    await new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#active--;
      this.#schedule();
    };
  }

  /** Writes started and not yet ended; writes waiting for their turn. */
  get counts(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }

  #schedule(): void {
    if (this.#scheduled || this.#active >= this.limit || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#waiting.shift();
      if (!next) return;
      this.#active++;
      next();
      this.#schedule();
    });
  }
}

/** Writes a process works on at once (`npm run bench -- flood`: 1, 2 and 4 gave the same GET p50; 4 the best p99 and create rate). */
export const WRITES_AT_ONCE = 4;

/**
 * A write's body, read before its turn (`readBodyAhead`): its bytes (`null`:
 * no body); or `unread`, announced larger than allowed, for the handler to
 * refuse with 413 without reading it; or the error it failed with (it
 * stalled or was cut off).
 */
export type BodyAhead = BodyRead | { kind: "unread" };

/**
 * Read a write's body first (at most `maxBytes` + 1 bytes: a larger one is
 * left for the handler to refuse with 413), so that a write's turn is never
 * spent waiting for a slow client: five clients trickling their bodies would
 * otherwise hold every turn. A body announced larger than `maxBytes` is not
 * read at all. Each chunk is waited for at most `idleMs`
 * (ODCS_BODY_IDLE_SECONDS).
 */
export async function readBodyAhead(
  req: Request,
  limits: { maxBytes: number; idleMs: number },
  incoming?: IncomingMessage,
): Promise<BodyAhead> {
  const { maxBytes, idleMs } = limits;
  // Node's own request first: `req.body` and `req.headers` of the adapter's
  // request would each build the WHATWG object behind it.
  if (incoming) {
    if (Number(incoming.headers["content-length"] ?? "0") > maxBytes) return { kind: "unread" };
    return readIncoming(incoming, limits);
  }
  if (req.body === null) return { kind: "read", bytes: null };
  if (Number(req.headers.get("content-length") ?? "0") > maxBytes) return { kind: "unread" };
  const reader = withIdleTimeout(req.body, idleMs).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size > maxBytes) await reader.cancel();
    return { kind: "read", bytes: concatBytes(chunks) };
  } catch (err) {
    return { kind: "failed", err };
  }
}

/**
 * `readBodyAhead` on Node's own request stream: the same limits and errors
 * as through `req.body` (`withIdleTimeout`), without the web streams and the
 * WHATWG Request the adapter would build for it — per create, a good part
 * of what the thread answering reads spent on a write.
 */
function readIncoming(
  incoming: IncomingMessage,
  limits: { maxBytes: number; idleMs: number },
): Promise<BodyAhead> {
  const { maxBytes, idleMs } = limits;
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (ahead: BodyAhead) => {
      clearTimeout(timer);
      incoming.off("data", onData).off("end", onEnd).off("error", onFail).off("close", onClose);
      resolve(ahead);
    };
    const read = () => settle({ kind: "read", bytes: concatBytes(chunks) });
    const waitForMore = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          settle({
            kind: "failed",
            err: new RequestTimeoutError(
              `The request body stalled: no byte for ${idleMs / 1000} s (ODCS_BODY_IDLE_SECONDS)`,
            ),
          }),
        idleMs,
      );
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      // One byte more than allowed is enough for the handler to refuse it (413).
      if (size > maxBytes) {
        incoming.pause();
        read();
      } else waitForMore();
    };
    const onEnd = () => read();
    const onFail = (err: Error) =>
      settle({
        kind: "failed",
        err: new InvalidRequestError(
          `The request body ended before it was complete (${err.message})`,
        ),
      });
    const onClose = () => {
      if (!incoming.complete) onFail(new Error("the client closed the connection"));
    };
    if (incoming.readableEnded) {
      read();
      return;
    }
    incoming.on("data", onData).on("end", onEnd).on("error", onFail).on("close", onClose);
    waitForMore();
  });
}

/**
 * The request's bindings with the body `readBodyAhead` read, for the app to
 * take it from (`BODY_READ`, src/api/body.ts) instead of reading the
 * request's body a second time; a body that failed is handed on as that
 * error, so the handler answers it (408, 400) in the ODCS shape like any
 * other bad body. An `unread` body is left to the handler (413).
 */
export function withBodyAhead(env: object | undefined, ahead: BodyAhead): object | undefined {
  return ahead.kind === "unread" ? env : { ...env, [BODY_READ]: ahead };
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Whether a request takes a turn (and has its body read first): every
 * write but an upload, whose body streams for minutes and is read chunk by
 * chunk anyway (a turn held that long would stop every other write). An
 * upload's DELETE does take one: run before its body is whole, a body that
 * then failed (Node's parser refused it, the client cut it off) would have
 * deleted while the client was told 400.
 */
export function takesTurn(req: Request): boolean {
  if (READS.has(req.method)) return false;
  return !(req.method === "POST" && new URL(req.url).pathname.includes("/api/1/uploads"));
}

/** Whether a write goes to the write thread (`write-thread.ts`): the API's, not the dashboard's forms or uploads (the thread has no upload store). */
export function inWriteThread(req: Request): boolean {
  const path = new URL(req.url).pathname;
  return takesTurn(req) && path.startsWith("/api/1/") && !path.includes("/api/1/uploads");
}

/**
 * The answer to an API write whose body failed (stalled, cut off, refused by
 * Node's parser mid-body): the request is not run at all. A handler that
 * never reads its body (DELETE) would otherwise have deleted while the
 * client got Node's 400 or nothing. `undefined` for anything else (a
 * dashboard form reads its body and answers with its own page).
 */
export function refuseFailedBody(req: Request, ahead: BodyAhead): Response | undefined {
  if (ahead.kind !== "failed" || !new URL(req.url).pathname.startsWith("/api/")) return undefined;
  const err = ahead.err;
  const status = err instanceof DomainError ? statusOf(err) : 400;
  const message =
    err instanceof Error ? err.message : "The request body ended before it was complete";
  return Response.json(errorBody(status, message), { status });
}
