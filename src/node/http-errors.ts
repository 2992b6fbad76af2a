import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { getRequestListener, RequestError } from "@hono/node-server";
import type { Logger } from "../api/deps.ts";
import { errorBody } from "../api/errors.ts";

type Fetch = Parameters<typeof getRequestListener>[0];

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

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
  const body = JSON.stringify(errorBody(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The `createServer` of @hono/node-server's `serve()` for `fetch`: requests
 * the adapter cannot turn into a Request (no or an invalid Host, a
 * backslash in the path, an absolute URL of another scheme) get a 400 in
 * the ODCS shape, not an empty one; what Node's parser refuses too
 * (`answerClientError`).
 */
export function odcsHttpServer(fetch: Fetch, log: Logger): typeof createServer {
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
      { ...options, requireHostHeader: false },
      listener as (req: IncomingMessage, res: ServerResponse) => void,
    );
    server.on("clientError", answerClientError);
    return server;
  }) as typeof createServer;
}
