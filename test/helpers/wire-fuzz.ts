/**
 * A hostile HTTP client of the real server process, at the byte level: one
 * generator of whole requests (method, target, query, headers, framing and
 * body, every route of openapi.yaml and of the dashboard and compose file
 * server) and the judge of what came back. Used by test/fuzz/wire.test.ts
 * (a fixed seed, in CI) and bench/fuzz.ts (`npm run fuzz -- --seed N --runs M`).
 *
 * Each request goes over its own TCP connection; every response on it is
 * parsed (a pipelined pair gets two, `100 Continue` is skipped).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createClient } from "@libsql/client";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { ROOT, type ServiceProcess } from "./service.ts";

export interface RouteSpec {
  method: string;
  /** With `{id}` where a path parameter goes. */
  path: string;
}

/** Every operation of openapi.yaml (read from the file, so a new route is fuzzed with no edit here). */
export function openApiRoutes(file = join(ROOT, "openapi.yaml")): RouteSpec[] {
  const doc = parseYaml(readFileSync(file, "utf8")) as { paths: Record<string, object> };
  const out: RouteSpec[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops))
      if (["get", "post", "put", "patch", "delete", "head", "options"].includes(method))
        out.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "{id}") });
  return out;
}

/** What the Node app serves beside the API document: the dashboard, its forms, login, docs, compose files. */
export const PAGE_ROUTES: readonly RouteSpec[] = [
  { method: "GET", path: "/" },
  { method: "GET", path: "/ui/new" },
  { method: "POST", path: "/ui/new" },
  { method: "GET", path: "/ui/queue" },
  { method: "GET", path: "/ui/charts" },
  { method: "GET", path: "/ui/about" },
  { method: "GET", path: "/ui/composes/{id}" },
  { method: "POST", path: "/ui/composes/{id}/renew" },
  { method: "POST", path: "/ui/composes/{id}/delete" },
  { method: "GET", path: "/ui/assets/{id}" },
  { method: "GET", path: "/login" },
  { method: "POST", path: "/logout" },
  { method: "GET", path: "/api/1/openapi.json" },
  { method: "GET", path: "/api/1/docs" },
  { method: "GET", path: "/composes/{id}" },
  { method: "GET", path: "/composes/odcs-{id}/compose/metadata/rpms.json" },
];

/** Ids as a hostile client writes them: signs, floats, exponents, hex, overflow, padding, encodings. */
export const HOSTILE_IDS = [
  "-1",
  "0",
  "1.5",
  "1e3",
  "0x10",
  "99999999999999999999",
  "9007199254740993",
  "%201",
  "1%20",
  "+1",
  "01",
  "1%00",
  "NaN",
  "Infinity",
  "__proto__",
  "%ZZ",
  "%",
  "%C0%AF",
  "%2e%2e",
  "..%2f..%2f",
  "1;x",
] as const;

const PATH_TRICKS = [
  "..",
  "%2e%2e",
  "%2E%2E%2F%2E%2E",
  "..%5c..%5c",
  "%2f",
  "%00",
  "%C0%AF",
  "%C0%AE%C0%AE",
  "%ZZ",
  "%",
  "%ff%fe",
  "%E2%80%AE",
  "",
  ";jsessionid=1",
  "a".repeat(3000),
] as const;

const QUERY_KEYS = [
  "state",
  "state[]",
  "owner",
  "source_type",
  "source",
  "order_by",
  "page",
  "per_page",
  "timeout",
  "last_event_id",
  "compose_id",
  "seconds_to_live",
  "__proto__",
  "constructor",
  "%ZZ",
] as const;
const QUERY_VALUES = [
  "wait",
  "9",
  "done,failed",
  "%ZZ",
  "%",
  "%C0%AF",
  "%00",
  "-1",
  "0",
  "1.5",
  "1e309",
  "99999999999999999999",
  "NaN",
  "",
  "__proto__",
  "a".repeat(2000),
] as const;

/** A JWT with `alg: none` (no signature): must never be taken. */
const ALG_NONE_JWT = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"sub":"admin","scope":"openid"}').toString("base64url")}.`;

const HEADER_CHOICES: readonly [string, string][] = [
  ["Authorization", "Bearer "],
  ["Authorization", "Bearer garbage"],
  ["Authorization", `Bearer ${ALG_NONE_JWT}`],
  ["Authorization", `Bearer ${"x".repeat(12_000)}`],
  ["Authorization", "Basic Zm9vOmJhcg=="],
  ["Authorization", "Negotiate \u00ff\u00fe"],
  ["Authorization", "Bearer a.b.c.d.e"],
  ["Content-Type", "application/json"],
  ["Content-Type", "application/json; charset=utf-16"],
  ["Content-Type", "application/x-www-form-urlencoded"],
  ["Content-Type", "multipart/form-data; boundary=bnd"],
  ["Content-Type", "multipart/form-data"],
  ["Content-Type", "text/plain"],
  ["Content-Type", "application/x-tar"],
  ["Content-Encoding", "gzip"],
  ["Content-Encoding", "br"],
  ["Expect", "100-continue"],
  ["Accept", "text/event-stream"],
  ["Accept-Encoding", "gzip, br"],
  ["Last-Event-ID", "-1"],
  ["Last-Event-ID", "99999999999999999999"],
  ["Range", "bytes=99999999999999999999-"],
  ["Range", "bytes=5-1"],
  ["If-None-Match", "*"],
  ["If-Modified-Since", "yesterday"],
  ["Cookie", "odcs_session=%ff; odcs_csrf=\u00e9"],
  ["X-Script-Name", "/%ZZ/\u00ff"],
  ["X-Forwarded-Host", "evil.example:99999"],
  ["X-Forwarded-Proto", "javascript"],
  ["Origin", "null"],
  ["Connection", "keep-alive, Upgrade"],
  ["Upgrade", "websocket"],
  ["Transfer-Encoding", "identity"],
];

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "PROPFIND",
  "M-SEARCH",
  "get",
  "G\u0001T",
  "POST\u00e9",
] as const;

/** Request bodies a hostile client sends. */
export const HOSTILE_BODIES: readonly (() => Buffer)[] = [
  () => Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`),
  () => Buffer.from(`${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/a"},"source":{"type":"tag"}}'),
  () => Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}'),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/a"},"seconds_to_live":1e309}'),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/a"},"seconds_to_live":-0}'),
  () =>
    Buffer.from(
      '{"source":{"type":"repo","source":"/srv/repos/a"},"seconds_to_live":9007199254740993}',
    ),
  () => Buffer.from(`{"source":{"type":"repo","source":"/srv/repos/${"a".repeat(200_000)}"}}`),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/a\\u0000b"}}'),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/a"},"label":"\\ud800"}'),
  // A raw lone surrogate (WTF-8) and invalid UTF-8.
  () =>
    Buffer.concat([
      Buffer.from('{"source":{"type":"repo","source":"/srv/repos/'),
      Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xc0, 0xaf]),
      Buffer.from('"}}'),
    ]),
  () => Buffer.from('\ufeff{"source":{"type":"repo","source":"/srv/repos/bom"}}'),
  () => Buffer.from("source=repo&x=%ZZ"),
  () =>
    Buffer.from(
      '--bnd\r\nContent-Disposition: form-data; name="file"; filename="../../x.rpm"\r\n\r\nabc\r\n--bnd--\r\n',
    ),
  () => gzipSync(Buffer.from('{"source":{"type":"repo","source":"/srv/repos/gz"}}')),
  () => Buffer.from('{"seconds_to_live": 60}'),
  () => Buffer.from('{"seconds_to_live": "60"}'),
  () => Buffer.from("null"),
  () => Buffer.from("{"),
  () => Buffer.alloc(0),
  () => Buffer.from('{"source":{"type":"repo","source":"/srv/repos/valid"}}'),
];

export type Framing =
  | "length"
  | "chunked"
  | "bad-chunk"
  | "length+chunked"
  | "two-lengths"
  | "short-length"
  | "none"
  | "http10"
  | "pipelined";

export interface WireRequest {
  method: string;
  /** The request target as sent. */
  target: string;
  headers: [string, string][];
  framing: Framing;
  body: Buffer;
  /** The bytes, as written (in pieces: the connection may pause between them). */
  pieces: Buffer[];
}

const idArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("1", "2", "3") },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_IDS) },
  fc.nat({ max: 50 }).map(String),
);

function fill(path: string, id: string): string {
  return path.replaceAll("{id}", id);
}

const routeArb = (port: number) => {
  const routes = [...openApiRoutes(), ...PAGE_ROUTES];
  const targetArb = fc
    .tuple(
      fc.constantFrom(...routes),
      idArb,
      fc.option(fc.constantFrom(...PATH_TRICKS), { freq: 4 }),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant("origin" as const) },
        fc.constantFrom("absolute" as const, "asterisk" as const, "trailing" as const),
      ),
    )
    .map(([route, id, trick, form]) => {
      let path = fill(route.path, id);
      if (trick !== null) {
        const parts = path.split("/");
        const at = 1 + (trick.length % Math.max(1, parts.length - 1));
        parts.splice(at, 0, trick);
        path = parts.join("/");
      }
      if (form === "trailing") path = path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
      if (form === "absolute") path = `http://127.0.0.1:${port}${path}`;
      if (form === "asterisk") path = "*";
      return { route, path };
    });
  return targetArb;
};

const queryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.constantFrom(...QUERY_VALUES)), {
        minLength: 1,
        maxLength: 5,
      })
      // Raw, not encoded: `%ZZ` reaches the server as sent.
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
  },
  fc.constantFrom(`?${"state=wait&".repeat(600)}`, `?owner=${"%41".repeat(3000)}`, "?&&=&=x&a"),
);

const headersArb = fc.oneof(
  { weight: 6, arbitrary: fc.subarray([...HEADER_CHOICES], { maxLength: 4 }) },
  // Many headers (a few hundred fit in Node's 16 KiB; thousands do not: 431).
  fc
    .integer({ min: 50, max: 3000 })
    .map((n) => Array.from({ length: n }, (_, i) => [`X-H${i}`, "v"] as [string, string])),
);

const framingArb = fc.constantFrom<Framing>(
  "length",
  "length",
  "length",
  "chunked",
  "bad-chunk",
  "length+chunked",
  "two-lengths",
  "short-length",
  "none",
  "http10",
  "pipelined",
);

/** Whole hostile requests against a server on `port`. */
export function wireRequestArb(port: number): fc.Arbitrary<WireRequest> {
  return fc
    .record({
      target: routeArb(port),
      method: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, fc.constantFrom(...METHODS)),
      query: queryArb,
      headers: headersArb,
      framing: framingArb,
      body: fc.nat({ max: HOSTILE_BODIES.length - 1 }),
      chunks: fc.integer({ min: 1, max: 6 }),
    })
    .map(({ target, method, query, headers, framing, body, chunks }) => {
      const m = method ?? target.route.method;
      // A wait on a compose nobody works on lasts its `timeout` (30 s by default): 1 s here
      // unless the fuzzed query names one first (the first value counts, as upstream).
      const q =
        target.route.path.endsWith("/wait") && !query.startsWith("?timeout=")
          ? `?timeout=1${query === "" ? "" : `&${query.slice(1)}`}`
          : query;
      const t = target.path === "*" ? "*" : `${target.path}${q}`;
      const bytes = (HOSTILE_BODIES[body] as () => Buffer)();
      return buildRequest(m, t, headers, framing, bytes, chunks);
    });
}

/** The bytes of one request with `framing` (see `Framing`). */
export function buildRequest(
  method: string,
  target: string,
  headers: [string, string][],
  framing: Framing,
  body: Buffer,
  chunks = 1,
): WireRequest {
  const version = framing === "http10" ? "HTTP/1.0" : "HTTP/1.1";
  const lines = [`${method} ${target} ${version}`];
  if (framing !== "http10") lines.push("Host: 127.0.0.1");
  // Framing headers come from `framing`; hostile ones from the list stay as given.
  for (const [k, v] of headers)
    if (!/^(content-length|transfer-encoding|connection)$/i.test(k)) lines.push(`${k}: ${v}`);
  let payload = body;
  switch (framing) {
    case "length":
    case "http10":
    case "pipelined":
      lines.push(`Content-Length: ${body.length}`);
      break;
    case "short-length":
      lines.push(`Content-Length: ${body.length + 10}`);
      break;
    case "two-lengths":
      lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
      break;
    case "length+chunked":
      lines.push(`Content-Length: ${body.length}`, "Transfer-Encoding: chunked");
      payload = chunked(body, chunks);
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = chunked(body, chunks);
      break;
    case "bad-chunk":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([
        Buffer.from("ffffffffffffffffffff\r\n"),
        body,
        Buffer.from("\r\n0\r\n\r\n"),
      ]);
      break;
    case "none":
      break;
  }
  lines.push(framing === "pipelined" ? "Connection: keep-alive" : "Connection: close");
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  let pieces = [head, payload];
  if (framing === "pipelined") {
    const second = Buffer.from(
      head.toString("latin1").replace("Connection: keep-alive", "Connection: close"),
      "latin1",
    );
    pieces = [Buffer.concat([head, payload, second, payload])];
  }
  return { method, target, headers, framing, body, pieces };
}

function chunked(body: Buffer, parts: number): Buffer {
  const out: Buffer[] = [];
  const size = Math.max(1, Math.ceil(body.length / parts));
  for (let at = 0; at < body.length; at += size) {
    const c = body.subarray(at, at + size);
    out.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from("\r\n"));
  }
  out.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(out);
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface WireAnswer {
  responses: WireResponse[];
  /** The bound passed with the connection still open and a response unfinished or missing. */
  timedOut: boolean;
  elapsedMs: number;
}

/** Parse every complete response in `buf` (1xx skipped); `rest` is what is left over. */
export function parseResponses(
  buf: Buffer,
  headRequest: boolean,
): { responses: WireResponse[]; rest: Buffer } {
  const responses: WireResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const head = buf.subarray(at, end).toString("latin1");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) break;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of head.split("\r\n").slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let next = end + 4;
    if (status < 200) {
      at = next;
      continue;
    }
    let body: Buffer = Buffer.alloc(0);
    // An event stream never ends by itself: its head is the answer.
    if (headers["content-type"]?.startsWith("text/event-stream")) {
      responses.push({ status, headers, body: buf.subarray(next) });
      return { responses, rest: Buffer.alloc(0) };
    }
    if (!(headRequest || status === 204 || status === 304)) {
      if (headers["content-length"] !== undefined) {
        const n = Number(headers["content-length"]);
        if (buf.length < next + n) break;
        body = buf.subarray(next, next + n);
        next += n;
      } else if (headers["transfer-encoding"] === "chunked") {
        const parts: Buffer[] = [];
        let done = false;
        for (;;) {
          const eol = buf.indexOf("\r\n", next);
          if (eol < 0) break;
          const size = Number.parseInt(buf.subarray(next, eol).toString("latin1"), 16);
          if (Number.isNaN(size) || buf.length < eol + 2 + size + 2) break;
          next = eol + 2 + size + 2;
          if (size === 0) {
            done = true;
            break;
          }
          parts.push(buf.subarray(eol + 2, eol + 2 + size));
        }
        if (!done) break;
        body = Buffer.concat(parts);
      } else break; // until close
    }
    responses.push({ status, headers, body });
    at = next;
  }
  return { responses, rest: buf.subarray(at) };
}

/**
 * Send `req` on a new connection to 127.0.0.1:`port`; collect responses
 * until the server closes, `expect` responses arrived, or `boundMs` passed.
 */
export function exchange(
  port: number,
  req: Pick<WireRequest, "pieces" | "method">,
  boundMs: number,
  expect = 1,
): Promise<WireAnswer> {
  const start = Date.now();
  const head = req.method === "HEAD";
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(got, head);
      // A response delimited by the close (no length, not chunked).
      if (!timedOut && rest.length > 0) {
        const text = rest.toString("latin1");
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
        const end = text.indexOf("\r\n\r\n");
        if (m && end > 0)
          responses.push({ status: Number(m[1]), headers: {}, body: rest.subarray(end + 4) });
      }
      resolve({ responses, timedOut, elapsedMs: Date.now() - start });
    };
    const timer = setTimeout(() => finish(true), boundMs);
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (parseResponses(got, head).responses.length >= expect) finish(false);
    });
    socket.on("error", () => {});
    socket.on("close", () => finish(false));
    socket.on("connect", () => {
      for (const p of req.pieces) if (!socket.destroyed) socket.write(p);
    });
  });
}

/** Whether `target` (as sent) names a path under /api/ once the server has normalised it. */
export function isApiTarget(target: string): boolean {
  try {
    return new URL(target, "http://127.0.0.1").pathname.startsWith("/api/");
  } catch {
    return target.startsWith("/api/");
  }
}

/** The properties every answer must have; each broken one as a sentence. */
export function judge(req: WireRequest, answer: WireAnswer): string[] {
  const bad: string[] = [];
  const first = answer.responses[0];
  if (!first)
    bad.push(answer.timedOut ? "no answer within the bound" : "the connection closed unanswered");
  for (const res of answer.responses) {
    if (res.status >= 500) bad.push(`a ${res.status}: ${res.body.toString("utf8").slice(0, 300)}`);
    if (res.status >= 400 && req.method !== "HEAD" && isApiTarget(req.target)) {
      let json: unknown;
      try {
        json = JSON.parse(res.body.toString("utf8"));
      } catch {
        bad.push(
          `a ${res.status} under /api/ that is not JSON: ${res.body.toString("utf8").slice(0, 200)}`,
        );
        continue;
      }
      const o = json as Record<string, unknown>;
      const keys = Object.keys(o ?? {})
        .sort()
        .join(",");
      if (
        keys !== "error,message,status" ||
        o.status !== res.status ||
        typeof o.error !== "string" ||
        o.error === "Error" ||
        typeof o.message !== "string"
      )
        bad.push(
          `a ${res.status} under /api/ not in the ODCS error shape: ${JSON.stringify(json).slice(0, 200)}`,
        );
    }
  }
  return bad;
}

/** Whether an answer may have written (a 2xx to anything but a read). */
export function mayHaveWritten(req: WireRequest, answer: WireAnswer): boolean {
  const read = ["GET", "HEAD", "OPTIONS"].includes(req.method.toUpperCase());
  return !read && answer.responses.some((r) => r.status < 300);
}

/** What was written so far: rows of every table a request may write, and a digest of compose states and lives. */
export async function dbSnapshot(dbUrl: string): Promise<string> {
  const client = createClient({ url: dbUrl });
  try {
    const rs = await client.execute(
      `SELECT (SELECT count(*) FROM composes), (SELECT total(state) + total(time_to_expire) FROM composes),
              (SELECT count(*) FROM jobs), (SELECT count(*) FROM events), (SELECT count(*) FROM uploads)`,
    );
    return JSON.stringify(rs.rows[0]);
  } finally {
    client.close();
  }
}

/** The last events and their composes, to say what a write was. */
async function lastEvents(dbUrl: string): Promise<string> {
  const client = createClient({ url: dbUrl });
  try {
    const rs = await client.execute(
      "SELECT e.*, c.owner, c.state AS now_state FROM events e JOIN composes c ON c.id = e.compose_id ORDER BY e.id DESC LIMIT 2",
    );
    return JSON.stringify(rs.rows);
  } finally {
    client.close();
  }
}

/** Resident memory of a process, in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

/** Open file descriptors of a process (sockets included). */
export function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Open sockets of a process (descriptors that are sockets). */
export function socketsOf(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Log lines that mean a request hurt the process. */
export const HURT_LINES = [
  "uncaught exception",
  "unhandled error",
  "unhandledRejection",
  "the write thread exited",
  "the write thread failed",
  "the worker thread exited",
  "the worker thread failed",
] as const;

/** The first line of `svc`'s output showing a hurt process, if any. */
export function hurtLine(svc: ServiceProcess): string | undefined {
  return svc
    .output()
    .split("\n")
    .find((l) => HURT_LINES.some((h) => l.includes(h)));
}

/** Settings a fuzzed server runs with: small bounds, so stalls end fast; no sweep during the run. */
export const FUZZ_SERVER_ENV: Record<string, string> = {
  ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
  ODCS_BODY_IDLE_SECONDS: "1",
  ODCS_HEADERS_TIMEOUT_SECONDS: "2",
  ODCS_MAX_BODY_BYTES: String(64 * 1024),
  // Yearly: an expiry during a run would be a write no request made.
  ODCS_SWEEP_CRON: "0 0 1 1 *",
  ODCS_LOG_LEVEL: "info",
};

/** How long any answer may take: the body idle bound plus slack for a loaded machine. */
export const ANSWER_BOUND_MS = 15_000;

export interface FuzzFigures {
  runs: number;
  seconds: number;
  statuses: Record<number, number>;
  fiveXx: number;
  violations: string[];
}

/**
 * Send `requests` in batches of `parallel`, judging each answer, and after
 * each batch whose answers cannot have written, that nothing was written.
 */
export async function fuzzBatch(
  svc: ServiceProcess,
  requests: WireRequest[],
  figures: FuzzFigures,
  parallel = 8,
): Promise<void> {
  const port = Number(new URL(svc.url).port);
  const describe = (r: WireRequest) =>
    `${r.method} ${r.target.slice(0, 160)} [${r.framing}] headers ${JSON.stringify(r.headers.slice(0, 4)).slice(0, 200)}${r.headers.length > 4 ? ` +${r.headers.length - 4}` : ""} body ${JSON.stringify(r.body.subarray(0, 80).toString("latin1"))}`;
  for (let i = 0; i < requests.length; i += parallel) {
    const batch = requests.slice(i, i + parallel);
    const before = await dbSnapshot(svc.dbUrl);
    const answers = await Promise.all(
      batch.map((r) => exchange(port, r, ANSWER_BOUND_MS, r.framing === "pipelined" ? 2 : 1)),
    );
    let wrote = false;
    batch.forEach((r, k) => {
      const a = answers[k] as WireAnswer;
      figures.runs++;
      for (const res of a.responses) {
        figures.statuses[res.status] = (figures.statuses[res.status] ?? 0) + 1;
        if (res.status >= 500) figures.fiveXx++;
      }
      if (process.env.FUZZ_TRACE)
        process.stderr.write(
          `TRACE ${a.responses.map((x) => x.status).join(",")} ${a.elapsedMs}ms ${describe(r)}\nRAW ${JSON.stringify(Buffer.concat(r.pieces).toString("latin1").slice(0, 3000))}\n`,
        );
      for (const v of judge(r, a)) figures.violations.push(`${v} ← ${describe(r)}`);
      wrote ||= mayHaveWritten(r, a);
    });
    if (!wrote) {
      const after = await dbSnapshot(svc.dbUrl);
      if (after !== before)
        figures.violations.push(
          `written on 4xx answers (${before} → ${after}; last events ${await lastEvents(svc.dbUrl)}) ← ${batch.map(describe).join(" | ")}`,
        );
    }
    const hurt = hurtLine(svc);
    if (hurt) figures.violations.push(`the log shows: ${hurt.slice(0, 400)}`);
    if (hurt || figures.violations.length > 0) return;
  }
}
