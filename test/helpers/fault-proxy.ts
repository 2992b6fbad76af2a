/**
 * A fault-injecting HTTP proxy in front of a real server (e.g. `repoServer`
 * of a fixture repository, the Pulp or MBS test server): each request (its
 * method, body, and range/auth/content headers) is forwarded to `upstream` and
 * answered faithfully, unless a rule or the seeded random mix says to break
 * it in one of the ways real mirrors do:
 *
 * - `status`: answer `status` (default 503) instead;
 * - `reset`: drop the connection before any answer;
 * - `stall`: send the headers, then nothing until the client gives up
 *   (or `stallMs` passed, then the real body);
 * - `stall-headers`: say nothing at all until the client gives up;
 * - `truncate`: the real headers (full Content-Length), half the body, then
 *   drop the connection;
 * - `corrupt`: the real headers and length, with bytes in the middle flipped.
 *
 * `requests` records every request with the fault it got and whether the
 * client went away before the answer was complete (`aborted`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { prng } from "./corpus.ts";

export type Fault = "status" | "reset" | "stall" | "stall-headers" | "truncate" | "corrupt";

export interface FaultRule {
  /** Matched against the request path. */
  match: RegExp;
  fault: Fault;
  /** How many matching requests get the fault; default every one. */
  times?: number;
  /** For `status`: the status to answer; default 503. */
  status?: number;
  /** For `stall`: how long before the body is sent; default until the client leaves. */
  stallMs?: number;
}

export interface RandomFaults {
  seed: number;
  /** Fraction of requests (0..1) that get a fault. */
  rate: number;
  faults: readonly Fault[];
  /** For random `stall`s. */
  stallMs: number;
  /** Only paths matching this are eligible; default all. */
  match?: RegExp;
}

export interface ProxiedRequest {
  path: string;
  fault: Fault | undefined;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
}

export interface FaultProxy {
  url: string;
  requests: ProxiedRequest[];
  /** Add a rule; rules are tried in the order added, before the random mix. */
  rule(r: FaultRule): void;
  /** Drop every rule and the random mix: answer faithfully from now on. */
  clear(): void;
  random(r: RandomFaults | undefined): void;
  /** Faults injected so far, by kind. */
  injected(): Record<string, number>;
  /** Resolves once `n` requests matching `re` have been received. */
  seen(re: RegExp, n?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  let rules: (FaultRule & { left: number })[] = [];
  let mix: (RandomFaults & { next: () => number }) | undefined;
  const requests: ProxiedRequest[] = [];
  const watchers: { re: RegExp; n: number; done: () => void }[] = [];
  const sockets = new Set<Socket>();

  const choose = (path: string): FaultRule | undefined => {
    for (const r of rules) {
      if (r.left > 0 && r.match.test(path)) {
        r.left--;
        return r;
      }
    }
    if (mix && (mix.match?.test(path) ?? true) && mix.next() < mix.rate) {
      const fault = mix.faults[Math.floor(mix.next() * mix.faults.length)] ?? "status";
      return { match: /./, fault, stallMs: mix.stallMs };
    }
    return undefined;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest) => {
    const path = req.url ?? "/";
    const rule = choose(new URL(path, "http://x").pathname);
    entry.fault = rule?.fault;
    if (rule?.fault === "reset") {
      req.socket.destroy();
      return;
    }
    if (rule?.fault === "status") {
      res.writeHead(rule.status ?? 503, { "content-type": "text/plain" });
      res.end("injected failure\n");
      return;
    }
    if (rule?.fault === "stall-headers") return; // the client's timeout ends it
    const sent = req.method === "GET" || req.method === "HEAD" ? undefined : await readAll(req);
    const up = await fetch(`${upstream}${path}`, {
      method: req.method ?? "GET",
      headers: pickHeaders(req),
      ...(sent ? { body: sent } : {}),
    });
    const body = new Uint8Array(await up.arrayBuffer());
    const headers: Record<string, string> = { "content-length": String(body.length) };
    for (const h of ["content-type", "content-range"]) {
      const v = up.headers.get(h);
      if (v) headers[h] = v;
    }
    res.writeHead(up.status, headers);
    if (rule?.fault === "stall") {
      res.flushHeaders();
      if (rule.stallMs === undefined) return;
      await new Promise((r) => setTimeout(r, rule.stallMs));
      if (res.destroyed) return;
    }
    if (rule?.fault === "truncate") {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
      return;
    }
    if (rule?.fault === "corrupt" && body.length > 0) {
      const mid = Math.floor(body.length / 2);
      for (let i = mid; i < Math.min(body.length, mid + 16); i++) body[i] = (body[i] ?? 0) ^ 0xff;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    const entry: ProxiedRequest = {
      path: new URL(req.url ?? "/", "http://x").pathname,
      fault: undefined,
      aborted: false,
    };
    requests.push(entry);
    res.on("close", () => {
      if (!res.writableFinished) entry.aborted = true;
    });
    for (const w of watchers.filter((x) => x.re.test(entry.path))) {
      w.n--;
      if (w.n <= 0) {
        watchers.splice(watchers.indexOf(w), 1);
        w.done();
      }
    }
    answer(req, res, entry).catch(() => req.socket.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rule: (r) => {
      rules.push({ ...r, left: r.times ?? Number.POSITIVE_INFINITY });
    },
    clear: () => {
      rules = [];
      mix = undefined;
    },
    random: (r) => {
      mix = r ? { ...r, next: prng(r.seed) } : undefined;
    },
    injected: () => {
      const out: Record<string, number> = {};
      for (const r of requests) if (r.fault) out[r.fault] = (out[r.fault] ?? 0) + 1;
      return out;
    },
    seen: (re, n = 1) =>
      new Promise<void>((done) => {
        const already = requests.filter((r) => re.test(r.path)).length;
        if (already >= n) done();
        else watchers.push({ re, n: n - already, done });
      }),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** What an API client's request needs forwarded (Pulp's POSTs carry auth and JSON). */
const FORWARDED = ["range", "authorization", "content-type", "accept"] as const;

function pickHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (typeof v === "string") out[h] = v;
  }
  return out;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
