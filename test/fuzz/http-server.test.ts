/**
 * A hostile client against the real server process (`src/main.ts` under
 * Node, through test/helpers/service.ts), at the byte level
 * (test/helpers/raw-http.ts): malformed request lines, huge headers and
 * URLs, duplicate Content-Length, Transfer-Encoding with Content-Length,
 * invalid UTF-8, bodies that lie about their length, end early or arrive
 * byte by byte, deep and odd JSON, broken uploads, path tricks on the
 * compose file server, hostile Last-Event-ID. Every answer comes within a
 * bound and is never a 5xx; the app's 4xx carry the ODCS error body; the
 * process never crashes, logs no unhandled error, keeps its memory bounded
 * over many hostile requests, and still serves valid requests.
 *
 * FUZZ_RUNS sets the rounds of the memory run (default 150).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { head, type RawAnswer, rawExchange } from "../helpers/raw-http.ts";
import { type ServiceProcess, startService } from "../helpers/service.ts";

const ROUNDS = Number(process.env.FUZZ_RUNS ?? 150);
const IDLE_SECONDS = 1;
/** Bound on any answer: the idle timeout plus generous slack for a loaded machine. */
const BOUND_MS = 15_000;

let svc: ServiceProcess;
let port: number;

beforeAll(async () => {
  svc = await startService({
    env: {
      ODCS_BODY_IDLE_SECONDS: String(IDLE_SECONDS),
      ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
      ODCS_LOG_LEVEL: "info",
    },
  });
  port = Number(new URL(svc.url).port);
  // A tree with a real file and links out of it (not named odcs-<id>: the sweep removes such orphans).
  const dir = join(svc.targetDir, "fuzz-tree", "compose");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "real.txt"), "inside\n");
  symlinkSync("/etc/passwd", join(dir, "passwd"));
  symlinkSync("/etc", join(dir, "etc"));
  symlinkSync("../../../../../../../../etc/hostname", join(dir, "hostname"));
  symlinkSync("real.txt", join(dir, "inside-link.txt"));
}, 60_000);

afterAll(async () => {
  const code = await svc?.stop();
  expect(code).toBe(0);
});

/** The app's answer: ODCS error JSON on a 4xx (the app stamps X-Request-Id on what it answers). */
function expectClean(a: RawAnswer, what: string) {
  expect(a.timedOut, `${what}: no answer within ${BOUND_MS} ms`).toBe(false);
  expect(a.status, `${what}: no status line`).toBeDefined();
  expect(a.status ?? 0, `${what}: ${a.body.slice(0, 300)}`).toBeLessThan(500);
  if (
    (a.status ?? 0) >= 400 &&
    a.headers["x-request-id"] &&
    a.headers["content-type"]?.includes("json")
  ) {
    expect(JSON.parse(a.body), what).toEqual({
      status: a.status,
      error: expect.any(String),
      message: expect.any(String),
    });
  }
}

async function stillServes() {
  const res = await fetch(`${svc.url}/api/1/about/`, { signal: AbortSignal.timeout(BOUND_MS) });
  expect(res.status).toBe(200);
}

const json = (path: string, body: string, method = "POST") => [
  head(`${method} ${path} HTTP/1.1`, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
  }),
  body,
];

describe("malformed HTTP is answered cleanly (4xx), the process lives on", () => {
  const close = { Connection: "close" };
  test.each<[string, string, number[]]>([
    ["a garbage request line", "GARBAGE\r\n\r\n", [400]],
    ["a request line without a target", "GET\r\n\r\n", [400]],
    ["an unknown method", head("FOO /api/1/about/ HTTP/1.1", close), [400]],
    ["HTTP/9.9", head("GET /api/1/about/ HTTP/9.9", close), [400, 505]],
    ["a NUL in the request line", head("GET /api/1/\u0000about/ HTTP/1.1", close), [400]],
    ["raw invalid UTF-8 in the path", head("GET /api/1/composes/\xff\xfe HTTP/1.1", close), [400]],
    ["a space in the path", head("GET /api/1/a b HTTP/1.1", close), [400]],
    ["a header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", [400]],
    ["a 100 kB header", head("GET / HTTP/1.1", { "X-Big": "a".repeat(100_000), ...close }), [431]],
    [
      "a 100 kB URL",
      head(`GET /api/1/composes/?owner=${"a".repeat(100_000)} HTTP/1.1`, close),
      [414, 431],
    ],
    [
      "two different Content-Lengths",
      `${head("POST /api/1/composes/ HTTP/1.1", { "Content-Length": "2\r\nContent-Length: 3", ...close })}{}x`,
      [400],
    ],
    [
      "Transfer-Encoding with Content-Length",
      `${head("POST /api/1/composes/ HTTP/1.1", { "Content-Length": 5, "Transfer-Encoding": "chunked", ...close })}0\r\n\r\n`,
      [400],
    ],
    [
      "a bad chunk size",
      `${head("POST /api/1/composes/ HTTP/1.1", { "Transfer-Encoding": "chunked", ...close })}zz\r\n{}\r\n0\r\n\r\n`,
      [400],
    ],
    [
      "a backslash in a path",
      head("GET /composes/..\\..\\etc\\passwd HTTP/1.1", close),
      [400, 404],
    ],
    ["no Host header", "GET /api/1/about/ HTTP/1.1\r\nConnection: close\r\n\r\n", [400]],
    ["an invalid Host header", head("GET / HTTP/1.1", { Host: "[::1", ...close }), [400]],
    ["OPTIONS *", head("OPTIONS * HTTP/1.1", close), [400, 200, 404]],
  ])("%s", async (what, raw, statuses) => {
    const a = await rawExchange(port, [raw], BOUND_MS);
    expectClean(a, what);
    expect(statuses, `${what}: got ${a.status}`).toContain(a.status);
    // Even what Node's parser or the adapter refuses carries the ODCS error body.
    if ((a.status ?? 0) >= 400)
      expect(JSON.parse(a.body), what).toEqual({
        status: a.status,
        error: expect.any(String),
        message: expect.any(String),
      });
    await stillServes();
  });
});

describe("odd JSON over the wire", () => {
  const compose = (extra: string) =>
    `{"source": {"type": "repo", "source": "/srv/repos/a"}${extra}}`;
  test.each<[string, string, number]>([
    ["100 000 nested arrays", `[`.repeat(100_000) + `]`.repeat(100_000), 400],
    ["100 000 nested objects", `${`{"a":`.repeat(100_000)}1${"}".repeat(100_000)}`, 400],
    [
      "deep nesting inside a field",
      compose(`, "packages": ${"[".repeat(50_000)}${"]".repeat(50_000)}`),
      400,
    ],
    ["1e400", compose(`, "seconds_to_live": 1e400`), 400],
    ["-0 (falsy: the default lifetime, as upstream)", compose(`, "seconds_to_live": -0`), 200],
    [
      "2^63 (clamped to the maximum, as upstream)",
      compose(`, "seconds_to_live": 9223372036854775808`),
      200,
    ],
    [
      "__proto__ and constructor keys",
      compose(`, "__proto__": {"polluted": 1}, "constructor": {"prototype": {"x": 1}}`),
      400,
    ],
    ["invalid UTF-8", `{"source": {"type": "repo", "source": "/srv/repos/\xff"}}`, 400],
    ["a lone surrogate escape", compose(`, "label": "\\ud800"`), 400],
    ["a BOM (accepted, as Python's json.loads does)", `\ufeff${compose("")}`, 200],
  ])("%s", async (what, body, status) => {
    const bytes = Buffer.from(body, what === "invalid UTF-8" ? "latin1" : "utf8");
    const a = await rawExchange(
      port,
      [
        head("POST /api/1/composes/ HTTP/1.1", {
          "Content-Type": "application/json",
          "Content-Length": bytes.length,
          Connection: "close",
        }),
        bytes,
      ],
      BOUND_MS,
    );
    expectClean(a, what);
    expect(a.status, `${what}: ${a.body.slice(0, 200)}`).toBe(status);
  });
});

describe("bodies that stall, lie or end early get a bounded answer", () => {
  const start = (path: string, headers: Record<string, string | number>) =>
    head(`POST ${path} HTTP/1.1`, { "Content-Type": "application/json", ...headers });

  test("a Content-Length larger than the body: 408 after ODCS_BODY_IDLE_SECONDS", async () => {
    for (const path of ["/api/1/composes/", "/api/1/composes/1", "/ui/new", "/logout"]) {
      const method = path === "/api/1/composes/1" ? "PATCH" : "POST";
      const a = await rawExchange(
        port,
        [
          head(`${method} ${path} HTTP/1.1`, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": 100,
          }),
          "{}",
        ],
        BOUND_MS,
      );
      expectClean(a, path);
      if (path === "/logout") expect(a.status).toBe(404);
      else expect(a.status, `${path}: ${a.body}`).toBe(408);
    }
  });

  test("a body sent byte by byte with pauses past the idle bound: 408", async () => {
    const body = `{"source": {"type": "repo", "source": "/srv/repos/a"}}`;
    const pieces = [start("/api/1/composes/", { "Content-Length": body.length })];
    for (const ch of body.slice(0, 3)) pieces.push(ch, { pauseMs: 1_500 } as never);
    const a = await rawExchange(port, pieces, BOUND_MS);
    expectClean(a, "slow body");
    expect(a.status).toBe(408);
    expect(JSON.parse(a.body).message).toBe(
      "The request body stalled: no byte for 1 s (ODCS_BODY_IDLE_SECONDS)",
    );
  });

  test("a body sent byte by byte within the idle bound is read whole", async () => {
    const body = `{"source":{"type":"repo","source":"/srv/repos/slow"}}`;
    const pieces: Parameters<typeof rawExchange>[1] = [
      start("/api/1/composes/", { "Content-Length": body.length, Connection: "close" }),
    ];
    for (const ch of body) pieces.push(ch, { pauseMs: 20 });
    const a = await rawExchange(port, pieces, BOUND_MS);
    expectClean(a, "trickled body");
    expect(a.status).toBe(200);
  });

  test("a chunked body that never ends: 408; one cut off by the client: no crash, nothing logged as unhandled", async () => {
    const a = await rawExchange(
      port,
      [start("/api/1/composes/", { "Transfer-Encoding": "chunked" }), '10\r\n{"source": {"ty'],
      BOUND_MS,
    );
    expectClean(a, "unfinished chunked");
    expect(a.status).toBe(408);
    // The client gives up mid-body: nobody to answer, and nothing to crash.
    await rawExchange(
      port,
      [start("/api/1/composes/", { "Content-Length": 1000 }), '{"sou', { pauseMs: 200 }],
      300,
    );
    await stillServes();
  });
});

describe("uploads that stall, lie or end early", () => {
  const mp = (extra: Record<string, string | number>) =>
    head("POST /api/1/uploads/ HTTP/1.1", {
      "Content-Type": "multipart/form-data; boundary=bnd",
      ...extra,
    });
  const part =
    '--bnd\r\nContent-Disposition: form-data; name="file"; filename="a.rpm"\r\n\r\n\xed\xab\xee\xdb';

  test("a multipart body that ends inside a part (connection closed): the process lives", async () => {
    const a = await rawExchange(
      port,
      [
        mp({ "Transfer-Encoding": "chunked" }),
        `${part.length.toString(16)}\r\n${part}\r\n0\r\n\r\n`,
      ],
      BOUND_MS,
    );
    expectClean(a, "unterminated multipart");
    expect(a.status).toBe(400);
    await stillServes();
  });

  test("Content-Length lies and unfinished chunked uploads: 408 within the bound", async () => {
    for (const pieces of [
      [mp({ "Content-Length": 100_000 }), part],
      [mp({ "Transfer-Encoding": "chunked" }), `${part.length.toString(16)}\r\n${part}\r\n`],
      [
        head("POST /api/1/uploads/ HTTP/1.1", {
          "Content-Type": "application/x-tar",
          "Content-Length": 10_000,
        }),
        "abc",
      ],
    ]) {
      const a = await rawExchange(port, pieces, BOUND_MS);
      expectClean(a, String(pieces[0]));
      expect(a.status, a.body).toBe(408);
    }
    await stillServes();
  });
});

describe("the compose file server never leaves its tree", () => {
  const passwd = readFileSync("/etc/passwd", "utf8").slice(0, 20);
  test.each([
    "/composes/../../../../etc/passwd",
    "/composes/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/composes/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/composes/%252e%252e/%252e%252e/etc/passwd",
    "/composes/fuzz-tree/compose/real.txt%00.html",
    "/composes/fuzz-tree/compose/..%5c..%5c..%5cetc%5cpasswd",
    "/composes/fuzz-tree/compose/passwd",
    "/composes/fuzz-tree/compose/etc/passwd",
    "/composes/fuzz-tree/compose/hostname",
    "/composes/.staging/",
    "/composes//etc/passwd",
    `/composes/${"a/".repeat(2000)}x`,
    `/composes/${"%2e%2e/".repeat(500)}etc/passwd`,
  ])("%s", async (path) => {
    const a = await rawExchange(
      port,
      [head(`GET ${path} HTTP/1.1`, { Connection: "close" })],
      BOUND_MS,
    );
    expectClean(a, path);
    expect([400, 404]).toContain(a.status);
    expect(a.body).not.toContain(passwd);
  });

  test("files inside the tree (and links that stay in it) are served", async () => {
    for (const name of ["real.txt", "inside-link.txt"]) {
      const res = await fetch(`${svc.url}/composes/fuzz-tree/compose/${name}`);
      expect(res.status, name).toBe(200);
      expect(await res.text()).toBe("inside\n");
    }
  });
});

describe("the event stream under hostile Last-Event-ID and queries", () => {
  test.each([
    ["Last-Event-ID", "abc", 400],
    ["Last-Event-ID", "-1", 400],
    ["Last-Event-ID", "1e400", 400],
    ["Last-Event-ID", "9".repeat(400), 400],
    ["Last-Event-ID", "0", 200],
    ["query", "last_event_id=%ff", 400],
    ["query", "compose_id=9999999999999999999999", 400],
    ["query", "source_type=__proto__", 400],
  ])("%s %s", async (kind, value, status) => {
    const path = kind === "query" ? `/api/1/events/?${value}` : "/api/1/events/";
    const headers: Record<string, string> = kind === "query" ? {} : { "Last-Event-ID": value };
    const res = await fetch(`${svc.url}${path}`, {
      headers,
      signal: AbortSignal.timeout(BOUND_MS),
    });
    expect(
      res.status,
      `${await (res.status === 200 ? Promise.resolve("stream") : res.clone().text())}`,
    ).toBe(status);
    if (res.status === 200) await res.body?.cancel();
    else
      expect(await res.json()).toEqual({
        status,
        error: "Bad Request",
        message: expect.any(String),
      });
  });
});

/** Resident memory of the service process, in bytes. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

describe("many hostile requests: memory stays bounded, valid requests still work", () => {
  const mixed = (i: number): Parameters<typeof rawExchange>[1] => {
    switch (i % 6) {
      case 0:
        return ["GARBAGE\r\n\r\n"];
      case 1:
        return json("/api/1/composes/", `${"[".repeat(20_000)}${"]".repeat(20_000)}`);
      case 2:
        return [head("GET / HTTP/1.1", { "X-Big": "a".repeat(20_000), Connection: "close" })];
      case 3:
        return json("/api/1/composes/", `{"source":{"type":"repo","source":"/srv/repos/a"},"x":1}`);
      case 4:
        return [
          head(`GET /composes/${"%2e%2e/".repeat(50)}etc/passwd HTTP/1.1`, { Connection: "close" }),
        ];
      default:
        return [
          head("POST /api/1/uploads/ HTTP/1.1", {
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": 60,
            Connection: "close",
          }),
          '--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n',
        ];
    }
  };

  test(
    `${ROUNDS} rounds of mixed hostile requests`,
    async () => {
      const pid = svc.child.pid ?? 0;
      // Warm up (JIT, caches) before the baseline.
      for (let i = 0; i < 12; i++) await rawExchange(port, mixed(i), BOUND_MS);
      const before = rssOf(pid);
      for (let i = 0; i < ROUNDS; i += 6) {
        const answers = await Promise.all(
          [0, 1, 2, 3, 4, 5].map((k) => rawExchange(port, mixed(i + k), BOUND_MS)),
        );
        for (const a of answers) expectClean(a, `round ${i}`);
      }
      const after = rssOf(pid);
      expect(after - before, `RSS ${before} → ${after}`).toBeLessThan(96 * 1024 ** 2);
      await stillServes();
      const res = await fetch(`${svc.url}/api/1/composes/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ source: { type: "repo", source: "/srv/repos/after" } }),
      });
      expect(res.status).toBe(200);
      const out = svc.output();
      expect(out).not.toContain("uncaught exception");
      expect(out).not.toContain("unhandled error");
    },
    60_000 + ROUNDS * 200,
  );
});
