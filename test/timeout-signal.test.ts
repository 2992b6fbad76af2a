/**
 * `fetchWithin` under garbage collection, the cases that made it
 * necessary, each in a child process (`node --expose-gc`) that runs full
 * collections while it waits:
 * - a server that never answers: with the plain `AbortSignal.any([signal,
 *   AbortSignal.timeout(ms)])` the timeout signal is held only weakly (by
 *   its timer and by the composite), a collection takes it, and the fetch
 *   hangs;
 * - a server that sends its headers and then nothing: a fetch given
 *   `timeoutSignal` ends only through undici's `Request`, which nothing
 *   holds once the headers are in, and the body read hangs.
 * The same harness shows each hang first, so a pass of `fetchWithin` is
 * known to have met the collection.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/service.ts";

const CHILD = join(ROOT, "test/helpers/timeout-signal-child.ts");
/** How long a child may take to start (tsx, slow on a loaded machine) and end its fetch. */
const BOUND_MS = 45_000;
/** How long a child that should hang is watched past its start before it is taken as hung. */
const HUNG_AFTER_MS = 4_000;

let server: Server;
let url: string;
let headersOnly: string;
beforeAll(async () => {
  // `/never`: takes the request and never answers it; `/headers-only`: sends
  // the headers of a 1000-byte answer, then nothing.
  server = createServer((req, res) => {
    if (req.url !== "/headers-only") return;
    res.writeHead(200, { "content-length": "1000" });
    res.flushHeaders();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `${base}/never`;
  headersOnly = `${base}/headers-only`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * Runs the child with `kind`; resolves to its result line, or `hung` when
 * it printed none `HUNG_AFTER_MS` after the child's fetch began (it is then
 * killed).
 */
function runChild(
  kind: string,
  collect: "gc" | "no-gc" = "gc",
  from = url,
): Promise<{ ended: string; ms?: number } | "hung"> {
  return new Promise((resolve, reject) => {
    let requested: ReturnType<typeof setTimeout> | undefined;
    const onRequest = () => {
      // The child's fetch reached the server: from now on, HUNG_AFTER_MS.
      requested ??= setTimeout(() => child.kill("SIGKILL"), HUNG_AFTER_MS);
    };
    server.on("request", onRequest);
    const child = execFile(
      process.execPath,
      ["--expose-gc", "--import", "tsx", CHILD, kind, from, collect],
      { cwd: ROOT, timeout: BOUND_MS, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        clearTimeout(requested);
        server.off("request", onRequest);
        const line = stdout.trim().split("\n").at(-1) ?? "";
        if (line.startsWith("{")) resolve(JSON.parse(line));
        else if (requested && err?.signal === "SIGKILL") resolve("hung");
        else reject(new Error(`child ${kind} failed: ${err?.message}\n${stderr}`));
      },
    );
  });
}

describe("fetchWithin while garbage collections run", () => {
  it(
    "the plain AbortSignal.any over AbortSignal.timeout hangs (the harness reaches the GC case)",
    async () => {
      expect(await runChild("any")).toBe("hung");
      // The collections alone make it hang: without them it times out.
      expect(await runChild("any", "no-gc")).toMatchObject({ ended: "TimeoutError" });
    },
    2 * BOUND_MS + 15_000,
  );

  it(
    "fetch with timeoutSignal ends a stall before the headers, but hangs on a body that stalls",
    async () => {
      expect(await runChild("signal")).toMatchObject({ ended: "TimeoutError" });
      expect(await runChild("signal", "gc", headersOnly)).toBe("hung");
      // The collections alone make it hang: without them it times out.
      expect(await runChild("signal", "no-gc", headersOnly)).toMatchObject({
        ended: "TimeoutError",
      });
    },
    3 * BOUND_MS + 15_000,
  );

  it.each([
    ["fetchWithin(url, init, signal, 300), no answer", "within", "never"],
    ["fetchWithin(url, init, undefined, 300), no answer", "within-alone", "never"],
    ["fetchWithin(url, init, signal, 300), a body that stalls", "within", "headers-only"],
    ["fetchWithin(url, init, undefined, 300), a body that stalls", "within-alone", "headers-only"],
  ])(
    "%s: ends with its TimeoutError",
    async (_, kind, path) => {
      const got = await runChild(kind, "gc", path === "never" ? url : headersOnly);
      expect(got).toMatchObject({ ended: "TimeoutError" });
      expect(got !== "hung" && got.ms).toBeLessThan(HUNG_AFTER_MS);
    },
    BOUND_MS + 15_000,
  );
});
