/**
 * `timeoutSignal` under garbage collection, the case that made it
 * necessary: a fetch from a server that never answers, in a child process
 * (`node --expose-gc`) that runs full collections while it waits. With the
 * plain `AbortSignal.any([signal, AbortSignal.timeout(ms)])` the timeout
 * signal is held only weakly (by its timer and by the composite), a
 * collection takes it, and the fetch hangs: the same harness shows that
 * first, so a pass of `timeoutSignal` is known to have met the collection.
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
beforeAll(async () => {
  // Takes the request and never answers it.
  server = createServer(() => {});
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/never`;
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
      ["--expose-gc", "--import", "tsx", CHILD, kind, url, collect],
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

describe("timeoutSignal while garbage collections run", () => {
  it(
    "the plain AbortSignal.any over AbortSignal.timeout hangs (the harness reaches the GC case)",
    async () => {
      expect(await runChild("any")).toBe("hung");
      // The collections alone make it hang: without them it times out.
      expect(await runChild("any", "no-gc")).toMatchObject({ ended: "TimeoutError" });
    },
    2 * BOUND_MS + 15_000,
  );

  it.each([
    ["timeoutSignal(signal, 300)", "ours"],
    ["timeoutSignal(undefined, 300)", "ours-alone"],
  ])(
    "%s aborts the fetch with its TimeoutError",
    async (_, kind) => {
      const got = await runChild(kind);
      expect(got).toMatchObject({ ended: "TimeoutError" });
      expect(got !== "hung" && got.ms).toBeLessThan(HUNG_AFTER_MS);
    },
    BOUND_MS + 15_000,
  );
});
