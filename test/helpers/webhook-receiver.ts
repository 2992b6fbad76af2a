/**
 * A webhook receiver on a free loopback port that checks each request as a
 * subscriber would: HMAC-SHA256 of the raw body with the shared secret
 * against `X-ODCS-Signature`, compared in constant time. `mode` decides the
 * answer: `ok` (204), `fail` (503), `hang` (no answer until `mode` changes
 * or the server closes).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";

export interface ReceivedHook {
  eventId: string;
  timestamp: string;
  signature: string;
  signatureValid: boolean;
  contentType: string;
  raw: string;
  body: { event: string; compose: Record<string, unknown> & { id: number; state_name: string } };
  answered: number | "hung";
}

export function verifySignature(secret: string, raw: string, header: string): boolean {
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

export async function webhookReceiver(secret: string) {
  let mode: "ok" | "fail" | "hang" = "ok";
  const received: ReceivedHook[] = [];
  const hung: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["x-odcs-signature"] ?? "");
      const hook: ReceivedHook = {
        eventId: String(req.headers["x-odcs-event-id"] ?? ""),
        timestamp: String(req.headers["x-odcs-timestamp"] ?? ""),
        signature,
        signatureValid: verifySignature(secret, raw, signature),
        contentType: String(req.headers["content-type"] ?? ""),
        raw,
        body: JSON.parse(raw),
        answered: mode === "hang" ? "hung" : mode === "ok" ? 204 : 503,
      };
      received.push(hook);
      if (mode === "hang") hung.push(res);
      else res.writeHead(hook.answered as number).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks/odcs`,
    origin: `http://127.0.0.1:${port}`,
    received,
    /** Requests answered 2xx with a valid signature, in arrival order. */
    accepted: () => received.filter((r) => r.answered === 204 && r.signatureValid),
    setMode(m: "ok" | "fail" | "hang") {
      mode = m;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
