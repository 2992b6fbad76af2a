/**
 * A hostile client of the real server process (`src/server.ts`: the write
 * thread, no worker, so only requests write) over raw TCP and fetch, with
 * every route of openapi.yaml and of the dashboard and file server
 * (test/helpers/wire-fuzz.ts generates the requests and judges the
 * answers). Properties: an answer within a bound, never a 5xx, the ODCS
 * error body on every 4xx under /api/, nothing written unless a write was
 * answered 2xx, no thread restarted and nothing logged as unhandled, memory
 * and descriptors bounded; then the server still answers.
 *
 * CI runs seed 18; FUZZ_SEED ("random" for a fresh one) and FUZZ_RUNS
 * (batches of 8 requests) change it; `npm run fuzz` runs it long.
 */
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LINGER_MS } from "../../src/node/http-errors.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { type ServiceProcess, startService } from "../helpers/service.ts";
import { fromFiles, multipart } from "../helpers/uploads.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  ANSWER_BOUND_MS,
  buildRequest,
  dbSnapshot,
  exchange,
  FUZZ_SERVER_ENV,
  type FuzzFigures,
  fdsOf,
  fuzzBatch,
  HOSTILE_IDS,
  hurtLine,
  isApiTarget,
  judge,
  openApiRoutes,
  PAGE_ROUTES,
  rssOf,
  socketsOf,
  wireRequestArb,
} from "../helpers/wire-fuzz.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const HEADERS_TIMEOUT_S = Number(FUZZ_SERVER_ENV.ODCS_HEADERS_TIMEOUT_SECONDS);

let svc: ServiceProcess;
let port: number;
let pid: number;

const json = (method: string, path: string, body?: unknown) =>
  fetch(`${svc.url}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });

async function createCompose(): Promise<number> {
  const res = await json("POST", "/api/1/composes/", {
    source: { type: "repo", source: "/srv/repos/fuzz" },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: number }).id;
}

async function stateOf(id: number): Promise<string> {
  const res = await json("GET", `/api/1/composes/${id}`);
  return ((await res.json()) as { state_name: string }).state_name;
}

const send = (raw: string | Buffer, method = "GET", expect = 1) =>
  exchange(
    port,
    { method, pieces: [typeof raw === "string" ? Buffer.from(raw, "latin1") : raw] },
    ANSWER_BOUND_MS,
    expect,
  );

const bodyOf = (a: Awaited<ReturnType<typeof send>>, i = 0) =>
  JSON.parse(a.responses[i]?.body.toString("utf8") ?? "null") as unknown;

beforeAll(async () => {
  svc = await startService({ entry: "src/server.ts", env: FUZZ_SERVER_ENV });
  port = Number(new URL(svc.url).port);
  pid = svc.child.pid ?? 0;
  // Composes 1–3 waiting, 4 canceled (a PATCH of it regenerates): the ids the fuzzer favours.
  for (let i = 0; i < 4; i++) await createCompose();
  expect((await json("DELETE", "/api/1/composes/4")).status).toBe(202);
}, 60_000);

afterAll(async () => {
  expect(hurtLine(svc)).toBeUndefined();
  expect(await svc?.stop()).toBe(0);
});

describe("fuzzed requests over raw TCP, every route", () => {
  test(
    `${RUNS} batches of 8 hostile requests (seed ${SEED})`,
    async () => {
      const arb = wireRequestArb(port);
      // Warm up (JIT, caches) before the baselines.
      const warm: FuzzFigures = { runs: 0, seconds: 0, statuses: {}, fiveXx: 0, violations: [] };
      await fuzzBatch(svc, fc.sample(arb, { seed: SEED ^ 0x5eed, numRuns: 32 }), warm);
      expect(warm.violations).toEqual([]);
      const rssBefore = rssOf(pid);
      const fdsBefore = fdsOf(pid);
      const all: FuzzFigures = { runs: 0, seconds: 0, statuses: {}, fiveXx: 0, violations: [] };
      await fc.assert(
        fc.asyncProperty(fc.array(arb, { minLength: 8, maxLength: 8 }), async (batch) => {
          const figures: FuzzFigures = { ...all, violations: [] };
          await fuzzBatch(svc, batch, figures);
          Object.assign(all, { ...figures, violations: all.violations });
          expect(figures.violations).toEqual([]);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (process.env.FUZZ_VERBOSE) console.log(all.statuses);
      // The fuzzer reached past the parsers: answers of every kind.
      for (const status of [200, 400, 404, 405])
        expect(all.statuses[status] ?? 0).toBeGreaterThan(0);
      const rssAfter = rssOf(pid);
      expect(rssAfter - rssBefore, `RSS ${rssBefore} → ${rssAfter}`).toBeLessThan(128 * 2 ** 20);
      await waitFor(() => fdsOf(pid) <= fdsBefore + 8, {
        what: `the server's descriptors back near ${fdsBefore} (now ${fdsOf(pid)})`,
        timeoutMs: ANSWER_BOUND_MS,
      });
      const list = await json("GET", "/api/1/composes/");
      expect(list.status).toBe(200);
    },
    60_000 + RUNS * 4_000,
  );
});

describe("hostile ids on every route of openapi.yaml", () => {
  const routes = [...openApiRoutes(), ...PAGE_ROUTES].filter((r) => r.path.includes("{id}"));

  test("a 4xx, in the ODCS shape under /api/, nothing written", async () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "GET /api/1/composes/{id}",
        "PATCH /api/1/composes/{id}",
        "DELETE /api/1/composes/{id}",
        "GET /api/1/composes/{id}/wait",
        "GET /api/1/uploads/{id}",
        "DELETE /api/1/uploads/{id}",
      ]),
    );
    const before = await dbSnapshot(svc.dbUrl);
    for (const route of routes) {
      // Leading zeros name the compose, as upstream (odcs-api.md §1): `01` is no hostile id here.
      const requests = HOSTILE_IDS.filter((id) => id !== "01").map((id) =>
        buildRequest(
          route.method,
          route.path.replaceAll("{id}", id) + (route.path.endsWith("/wait") ? "?timeout=1" : ""),
          [["Content-Type", "application/json"]],
          "length",
          Buffer.from(route.method === "PATCH" ? '{"seconds_to_live": 60}' : ""),
        ),
      );
      const answers = await Promise.all(requests.map((r) => exchange(port, r, ANSWER_BOUND_MS)));
      requests.forEach((r, i) => {
        const a = answers[i] as Awaited<ReturnType<typeof exchange>>;
        const what = `${r.method} ${r.target}`;
        expect(judge(r, a), what).toEqual([]);
        // Pages may normalise a trick to another page (`/composes/%2e%2e` is `/`); API ids may not.
        if (isApiTarget(r.target) || route.path.startsWith("/ui/assets/"))
          expect(a.responses[0]?.status, what).toBeGreaterThanOrEqual(400);
      });
    }
    expect(await dbSnapshot(svc.dbUrl)).toBe(before);
  }, 60_000);
});

describe("bugs the fuzzer found", () => {
  test("a DELETE whose chunked body Node's parser refuses cancels nothing (it was canceled while the client got 400)", async () => {
    const id = await createCompose();
    const a = await send(
      `DELETE /api/1/composes/${id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n0\r\n\r\n`,
      "DELETE",
    );
    expect(a.responses[0]?.status).toBe(400);
    expect(bodyOf(a)).toEqual({
      status: 400,
      error: "Bad Request",
      message: "The request is not valid HTTP/1.1 (HPE_INVALID_CHUNK_SIZE)",
    });
    // A write after it: the DELETE, had it been run, was run before this one.
    await createCompose();
    expect(await stateOf(id)).toBe("wait");
  });

  test("a DELETE whose body stalls is a 408 and cancels nothing (it was canceled, 202)", async () => {
    const id = await createCompose();
    const a = await send(
      `DELETE /api/1/composes/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"a":`,
      "DELETE",
    );
    expect(a.responses[0]?.status).toBe(408);
    expect(bodyOf(a)).toEqual({
      status: 408,
      error: "Request Timeout",
      message: "The request body stalled: no byte for 1 s (ODCS_BODY_IDLE_SECONDS)",
    });
    expect(await stateOf(id)).toBe("wait");
  });

  test("an upload's DELETE with a broken body deletes nothing (it was deleted while the client got 400)", async () => {
    const rpm = join(FIXTURES_DIR, "rpms/centos7-multilib/libsmartcols-2.23.2-65.el7.x86_64.rpm");
    const up = await fetch(`${svc.url}/api/1/uploads/`, {
      method: "POST",
      body: multipart(await fromFiles([rpm])),
    });
    expect(up.status, await up.clone().text()).toBe(201);
    const { id } = (await up.json()) as { id: string };
    const a = await send(
      `DELETE /api/1/uploads/${id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      "DELETE",
    );
    expect(a.responses[0]?.status).toBe(400);
    await createCompose();
    const after = await fetch(`${svc.url}/api/1/uploads/${id}`);
    expect(((await after.json()) as { state: string }).state).toBe("ready");
  });

  test("pipelined: the answer to a renew comes before the 400 for the garbage after it (the 400 came first)", async () => {
    const id = await createCompose();
    expect((await json("DELETE", `/api/1/composes/${id}`)).status).toBe(202);
    const a = await send(
      `PATCH /api/1/composes/${id} HTTP/1.1\r\nHost: x\r\n\r\n\u001f\u008b\u0008garbage\r\n\r\n`,
      "PATCH",
      2,
    );
    expect(a.responses.map((r) => r.status)).toEqual([200, 400]);
    expect((bodyOf(a) as { state_name: string }).state_name).toBe("wait");
    expect(bodyOf(a, 1)).toEqual({
      status: 400,
      error: "Bad Request",
      message: expect.stringMatching(/^The request is not valid HTTP\/1\.1/),
    });
  });

  test("TRACE and CONNECT on every route: 405 in the ODCS shape (were 500, a 503 from the write thread, or no answer)", async () => {
    const targets = [...openApiRoutes(), ...PAGE_ROUTES].map((r) => r.path.replaceAll("{id}", "1"));
    for (const method of ["TRACE", "CONNECT"])
      for (const target of method === "CONNECT" ? [...targets, "127.0.0.1:80"] : targets) {
        const a = await send(
          `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`,
        );
        expect(a.responses[0]?.status, `${method} ${target}`).toBe(405);
        expect(bodyOf(a), `${method} ${target}`).toEqual({
          status: 405,
          error: "Method Not Allowed",
          message: "The method is not allowed for the requested URL.",
        });
      }
    expect(hurtLine(svc)).toBeUndefined();
  });

  /** The server's socket count once it has not changed for 300 ms. */
  const settledSockets = async () => {
    let last = -1;
    await waitFor(
      () => {
        const n = socketsOf(pid);
        const same = n === last;
        last = n;
        return same;
      },
      { intervalMs: 300, timeoutMs: 10_000, what: "the server's sockets to settle" },
    );
    return last;
  };

  test("sockets are freed once their clients close: a CONNECT's with bytes after its head, an event stream's whose GET had a body (held until a heartbeat failed, or for good)", async () => {
    const before = await settledSockets();
    const b = (text: string) => Buffer.from(text, "latin1");
    const asked = [
      // The rest of the request comes after the head: a bare socket nobody read.
      [b("CONNECT /api/1/composes HTTP/1.0\r\nContent-Length: 55\r\n\r\n"), b("x".repeat(55))],
      [
        b("CONNECT /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
        b("ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
      ],
      // A body larger than the socket's buffers under a GET whose answer never ends.
      [
        b("GET /api/1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"),
        Buffer.alloc(200_000, "["),
      ],
      [
        b("GET /api/1/events?per_page=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"),
        Buffer.alloc(200_000, "a"),
      ],
    ];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        asked.map((pieces) => exchange(port, { method: "GET", pieces }, ANSWER_BOUND_MS)),
      );
      for (const a of answers) expect(a.responses.length).toBeGreaterThan(0);
    }
    // Each client has closed its end (`exchange` destroys it once answered):
    // freed then, not at the next heartbeat (15 s) or LINGER_MS later.
    await waitFor(() => socketsOf(pid) <= before, {
      timeoutMs: LINGER_MS / 2,
      what: `the server's sockets back to ${before}`,
    });
  });

  test("a client that never closes after a CONNECT is cut LINGER_MS after its 405", async () => {
    const before = await settledSockets();
    const { connect } = await import("node:net");
    // Half-open: it keeps its side open after the server's end; only the server can close it.
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    socket.on("error", () => {});
    let text = "";
    const answered = new Promise<number>((resolve) => {
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
      });
      socket.on("end", () => resolve(Date.now()));
    });
    socket.write("CONNECT /api/1/about HTTP/1.1\r\nHost: x\r\n\r\n");
    try {
      const at = await answered;
      expect(text).toMatch(/^HTTP\/1\.1 405 /);
      expect(socketsOf(pid)).toBeGreaterThan(before);
      await waitFor(() => socketsOf(pid) <= before, {
        timeoutMs: LINGER_MS + 5_000,
        what: "the server to close the socket",
      });
      expect(Date.now() - at).toBeGreaterThanOrEqual(LINGER_MS - 100);
    } finally {
      socket.destroy();
    }
  });

  test("HTTP/1.0 without a Host header is served (it was a 400)", async () => {
    const a = await send("GET /api/1/composes/1 HTTP/1.0\r\n\r\n");
    expect(a.responses[0]?.status).toBe(200);
    expect((bodyOf(a) as { id: number }).id).toBe(1);
  });

  test('headers too large: a 431 named as such (was `error: "Error"`)', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join("");
    const a = await send(`GET /api/1/about/ HTTP/1.1\r\nHost: x\r\n${many}\r\n`);
    expect(bodyOf(a)).toEqual({
      status: 431,
      error: "Request Header Fields Too Large",
      message: "The request line and headers are larger than this server accepts (16 KiB)",
    });
  });

  test("slowloris: headers dribbled get a 408 after ODCS_HEADERS_TIMEOUT_SECONDS (were held 60–90 s); others are served meanwhile", async () => {
    const { connect } = await import("node:net");
    const dribble = () =>
      new Promise<{ status: number | undefined; body: string; ms: number }>((resolve) => {
        const start = Date.now();
        const socket = connect(port, "127.0.0.1");
        const line = Buffer.from("GET /api/1/composes/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        let at = 0;
        let got = "";
        const timer = setInterval(() => {
          if (at < line.length) socket.write(line.subarray(at, at + 1));
          else socket.write("a");
          at++;
        }, 100);
        socket.on("data", (d: Buffer) => {
          got += d.toString("latin1");
        });
        socket.on("error", () => {});
        socket.on("close", () => {
          clearInterval(timer);
          const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
          resolve({
            status: m ? Number(m[1]) : undefined,
            body: got.slice(got.indexOf("\r\n\r\n") + 4),
            ms: Date.now() - start,
          });
        });
        setTimeout(() => socket.destroy(), ANSWER_BOUND_MS);
      });
    const slow = Array.from({ length: 20 }, dribble);
    let settled = 0;
    for (const s of slow) void s.then(() => settled++);
    // Served while all twenty are still dribbling.
    const list = await json("GET", "/api/1/composes/");
    expect(list.status).toBe(200);
    expect(settled).toBe(0);
    for (const s of await Promise.all(slow)) {
      expect(s.status).toBe(408);
      expect(JSON.parse(s.body)).toEqual({
        status: 408,
        error: "Request Timeout",
        message: "The request did not arrive in time",
      });
      expect(s.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_S * 1000 - 100);
      expect(s.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
  }, 60_000);
});

describe("connections dropped by the thousand", () => {
  test("writes reset mid-body: nothing written, the write thread lives, a create still works", async () => {
    const target = await createCompose();
    const before = await dbSnapshot(svc.dbUrl);
    const { connect } = await import("node:net");
    const bodies = [
      `POST /api/1/composes/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"source":{"type":"repo","source":"/srv/r`,
      `PATCH /api/1/composes/4 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"seconds_to_live":`,
      `DELETE /api/1/composes/${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a`,
      `POST /api/1/composes/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"sou`,
    ];
    await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(port, "127.0.0.1");
            socket.on("error", () => {});
            socket.on("close", () => resolve());
            socket.on("connect", () => {
              socket.write(bodies[i % bodies.length] as string);
              // Some at once, some once the server is waiting for the rest.
              setImmediate(() => (i % 2 ? socket.resetAndDestroy() : socket.destroy()));
            });
          }),
      ),
    );
    expect(await stateOf(target)).toBe("wait");
    expect(await dbSnapshot(svc.dbUrl)).toBe(before);
    const id = await createCompose();
    expect(await stateOf(id)).toBe("wait");
    expect(hurtLine(svc)).toBeUndefined();
  }, 60_000);

  test("event streams and waits opened and dropped: descriptors and memory come back, a wait still gets a turn", async () => {
    const waiting = await createCompose();
    const fdsBefore = fdsOf(pid);
    const rssBefore = rssOf(pid);
    for (let round = 0; round < 4; round++) {
      const ctl = new AbortController();
      const opened = Array.from({ length: 250 }, (_, i) =>
        fetch(
          i % 2
            ? `${svc.url}/api/1/events/`
            : `${svc.url}/api/1/composes/${waiting}/wait?state=done&timeout=60`,
          { signal: ctl.signal },
        ).then(
          (res) => res.status,
          () => 0,
        ),
      );
      // Dropped once the server holds them all (the waits answer nothing before their timeout).
      await waitFor(() => fdsOf(pid) >= fdsBefore + 240, {
        what: `250 connections open (${fdsOf(pid) - fdsBefore} now)`,
        timeoutMs: ANSWER_BOUND_MS,
      });
      ctl.abort();
      expect((await Promise.all(opened)).filter((s) => s >= 500)).toEqual([]);
    }
    // Every dropped stream and wait let go of its socket and its slot.
    await waitFor(() => fdsOf(pid) <= fdsBefore + 8, {
      what: `descriptors back near ${fdsBefore} (now ${fdsOf(pid)})`,
      timeoutMs: ANSWER_BOUND_MS,
    });
    expect(rssOf(pid) - rssBefore).toBeLessThan(128 * 2 ** 20);
    const wait = await json("GET", `/api/1/composes/${waiting}/wait?state=done&timeout=0`);
    expect(wait.status).toBe(200);
  }, 60_000);
});
