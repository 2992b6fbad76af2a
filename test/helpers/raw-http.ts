/**
 * HTTP at the byte level for the hostile-client tests: whatever bytes, sent
 * in pieces with pauses, over one TCP connection; the answer parsed as far
 * as it goes. Every exchange is bounded: it ends when the server closes,
 * when a whole response (by Content-Length or the last chunk) has arrived,
 * or after `boundMs`.
 */
import { connect } from "node:net";

export type Piece = string | Buffer | { pauseMs: number };

export interface RawAnswer {
  /** Status of the first response, or undefined when none came. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection. */
  closed: boolean;
  /** The bound passed before the exchange ended. */
  timedOut: boolean;
  elapsedMs: number;
}

function parse(
  buf: Buffer,
): { done: boolean } & Omit<RawAnswer, "closed" | "timedOut" | "elapsedMs"> {
  const text = buf.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const status = m ? Number(m[1]) : undefined;
  if (end < 0) return { done: false, status, headers: {}, body: "" };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
  const length = headers["content-length"];
  if (length !== undefined) {
    const n = Number(length);
    return { done: rest.length >= n, status, headers, body: rest.subarray(0, n).toString("utf8") };
  }
  if (headers["transfer-encoding"] === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf("\r\n", at);
      if (eol < 0) break;
      const size = Number.parseInt(rest.subarray(at, eol).toString("latin1"), 16);
      if (Number.isNaN(size)) break;
      if (size === 0)
        return { done: true, status, headers, body: Buffer.concat(parts).toString("utf8") };
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    return { done: false, status, headers, body: Buffer.concat(parts).toString("utf8") };
  }
  return { done: false, status, headers, body: rest.toString("utf8") };
}

/** Send `pieces` to 127.0.0.1:`port` and read the answer (see the file comment). */
export function rawExchange(port: number, pieces: Piece[], boundMs = 10_000): Promise<RawAnswer> {
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    let settled = false;
    let closed = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { done: _, ...answer } = parse(got);
      resolve({ ...answer, closed, timedOut, elapsedMs: Date.now() - start });
    };
    const timer = setTimeout(() => finish(true), boundMs);
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (parse(got).done) finish(false);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      finish(false);
    });
    socket.on("connect", async () => {
      for (const p of pieces) {
        if (settled || socket.destroyed) return;
        if (typeof p === "object" && !Buffer.isBuffer(p)) {
          await new Promise((r) => setTimeout(r, p.pauseMs));
          continue;
        }
        socket.write(typeof p === "string" ? Buffer.from(p, "latin1") : p);
      }
    });
  });
}

/** A request head (request line + headers + blank line), latin1 as sent. */
export function head(requestLine: string, headers: Record<string, string | number> = {}): string {
  const lines = Object.entries({ Host: "127.0.0.1", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${requestLine}\r\n${lines.join("\r\n")}\r\n\r\n`;
}
