import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { getRequestListener, RequestError } from "@hono/node-server";
import type { Logger } from "../api/deps.ts";
import { errorBody, METHOD_NOT_ALLOWED } from "../api/errors.ts";

type Fetch = Parameters<typeof getRequestListener>[0];

const REASONS: Record<number, string> = {
  400: "Bad Request",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * Methods Node's parser takes but a WHATWG `Request` refuses to carry
 * (fetch's forbidden methods; TRACK Node refuses itself): no route serves
 * them, and the adapter or the write thread would throw building the
 * request (a 500, a 503 "write thread stopped"), so they are answered 405
 * before the app.
 */
const UNSERVABLE_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** What Node's HTTP parser refused, as the ODCS error a client can read. */
function clientErrorOf(code: string | undefined): { status: number; message: string } {
  if (code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      message: "The request line and headers are larger than this server accepts (16 KiB)",
    };
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "ERR_HTTP_HEADERS_TIMEOUT")
    return { status: 408, message: "The request did not arrive in time" };
  return {
    status: 400,
    message: `The request is not valid HTTP/1.1 (${code ?? "unparseable"})`,
  };
}

/**
 * Answer a request Node's parser refused (malformed request line or
 * headers, headers too large, conflicting Content-Length, …) with the ODCS
 * error body instead of Node's empty one, and close the connection.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, message } = clientErrorOf(err.code);
  // A request before the broken one is still being answered (pipelined, or
  // bytes after a body its headers did not announce): answering now would
  // put this 400 ahead of that answer, and the client would take it for the
  // answer to its request (which may still write: a create, a renew). The
  // answers before it go first; this one after them, then the connection closes.
  const inFlight = inFlightOn(socket);
  if (inFlight?.req.complete) {
    const afterAnswers = (res: ServerResponse) =>
      res.once("close", () => {
        const next = inFlightOn(socket);
        if (next && next !== res) afterAnswers(next);
        else if (res.writableFinished && socket.writable) endWith(socket, status, message);
        else socket.destroy();
      });
    afterAnswers(inFlight);
    return;
  }
  endWith(socket, status, message);
}

/** The response being written on `socket`, if one is (Node's own field: no public API gives it). */
function inFlightOn(socket: Duplex): ServerResponse | undefined {
  const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return res && !res.writableFinished ? res : undefined;
}

/**
 * How long a socket answered on its own (`endWith`) is read after its answer
 * for its client to close it, before it is closed here.
 */
export const LINGER_MS = 2_000;

/**
 * Answer on the bare socket (no response object exists) and close it.
 *
 * What the client still sends is read and dropped until it closes: a bare
 * socket (a CONNECT's, one the parser gave up on) is not read otherwise, so
 * its close was never seen and the socket stayed open for good (the
 * fuzzer: about one hostile connection in 600). Closing it at once instead
 * could reset the connection before the client has read the answer (unread
 * bytes make the close a reset). A client that never closes is cut after
 * `LINGER_MS`.
 */
function endWith(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify(errorBody(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once("close", () => clearTimeout(cut));
}

/**
 * Node's request timeouts with our headers bound (ODCS_HEADERS_TIMEOUT_SECONDS).
 *
 * No `requestTimeout` (Node's default cuts any request whose body is still
 * arriving after 300 s — a large upload at a modest speed): a body is bounded
 * by ODCS_BODY_IDLE_SECONDS per chunk instead, where it is read. Node checks
 * the headers' deadline every `connectionsCheckingInterval` (30 s by
 * default, so a 1 s bound took up to 31 s): a quarter of the bound here.
 */
function timeoutsOf(headersTimeoutMs: number) {
  return {
    headersTimeout: headersTimeoutMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeoutMs / 4))),
  };
}

/**
 * HTTP/1.0 needs no Host header, and the adapter refuses a request without
 * one: such a request is taken as addressed to the socket it came in on.
 */
function hostForHttp10(req: IncomingMessage): void {
  if (req.headers.host !== undefined || req.httpVersion !== "1.0") return;
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined || localPort === undefined) return;
  const host = localAddress.includes(":")
    ? `[${localAddress}]:${localPort}`
    : `${localAddress}:${localPort}`;
  req.headers.host = host;
  req.rawHeaders.push("Host", host);
}

/**
 * The `createServer` of @hono/node-server's `serve()` for `fetch`: requests
 * the adapter cannot turn into a Request (no or an invalid Host, a
 * backslash in the path, an absolute URL of another scheme) get a 400 in
 * the ODCS shape, not an empty one; what Node's parser refuses too
 * (`answerClientError`).
 */
export function odcsHttpServer(
  fetch: Fetch,
  log: Logger,
  limits: { headersTimeoutMs: number } = { headersTimeoutMs: 60_000 },
): typeof createServer {
  const listener = getRequestListener(fetch, {
    errorHandler: (err) => {
      if (err instanceof RequestError)
        return Response.json(errorBody(400, `Bad request: ${err.message}`), { status: 400 });
      log.error("unhandled error", {
        err: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      return Response.json(
        errorBody(500, "Internal server error; the request id is in the X-Request-Id header"),
        { status: 500 },
      );
    },
  });
  return ((options: Parameters<typeof createServer>[0]) => {
    // Node's own answer to a missing Host is an empty 400; the adapter's
    // check (a RequestError, above) answers it in the ODCS shape instead.
    const server = createServer(
      {
        ...options,
        requireHostHeader: false,
        ...timeoutsOf(limits.headersTimeoutMs),
      },
      (req: IncomingMessage, res: ServerResponse) => {
        if (UNSERVABLE_METHODS.has(req.method ?? "")) {
          res.shouldKeepAlive = false;
          res.writeHead(405, { "Content-Type": "application/json" });
          res.end(JSON.stringify(errorBody(405, METHOD_NOT_ALLOWED)));
          return;
        }
        hostForHttp10(req);
        // A GET's or HEAD's body is read and dropped (no route reads one): left
        // unread it held the socket paused, so a client that closed during a
        // long answer (the event stream) went unseen until a heartbeat failed.
        if (req.method === "GET" || req.method === "HEAD") req.resume();
        return (listener as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
      },
    );
    server.on("clientError", answerClientError);
    // CONNECT never reaches the request listener; without this Node drops the connection unanswered.
    server.on("connect", (_req: IncomingMessage, socket: Duplex) =>
      endWith(socket, 405, METHOD_NOT_ALLOWED),
    );
    return server;
  }) as typeof createServer;
}
