/**
 * Issue 18 item 4, as a figure: GET latency of the real server (`src/server.ts`,
 * no worker, so nothing leaves the queue) idle, then while 10 000 composes are
 * POSTed at once (64 in flight), then with all 10 000 waiting. Target: GET p99
 * under the flood and with the full queue within 2× of idle.
 * `npm run bench -- flood` (FLOOD_COMPOSES to change the size).
 */
import { spawn } from "node:child_process";
import { startService } from "../test/helpers/service.ts";

const COMPOSES = Number(process.env.FLOOD_COMPOSES ?? 10_000);
const IN_FLIGHT = 64;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const p = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

/** p50/p99 of `wrk -t1 -c1 -d<seconds>s --latency url`, in ms. */
function wrkLatency(url: string, seconds: number): Promise<{ p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t1", "-c1", `-d${seconds}s`, "--latency", url]);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", (e) =>
      reject(new Error(`wrk: ${e.message} (install the Debian package wrk)`)),
    );
    child.on("close", () => {
      const at = (q: string) => {
        const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
        if (!m?.[1]) return Number.NaN;
        const unit: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
        return Number(m[1]) * (unit[m[2] ?? "ms"] ?? 1);
      };
      resolve({ p50: at("50"), p99: at("99") });
    });
  });
}

export async function benchFlood(): Promise<void> {
  const svc = await startService({ entry: "src/server.ts", timeoutMs: 60_000 });
  try {
    const body = JSON.stringify({ source: { type: "repo", source: "/srv/none" } });
    const post = () =>
      fetch(`${svc.url}/api/1/composes/`, { method: "POST", body }).then(async (r) => {
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`POST answered ${r.status}`);
      });
    for (let i = 0; i < 20; i++) await post();
    const gets = async (until: () => boolean, min: number) => {
      const out: number[] = [];
      const paths = [
        "/api/1/composes/1",
        "/api/1/composes/?per_page=20",
        "/api/1/composes/?state=wait&per_page=20",
      ];
      while (out.length < min || !until()) {
        const t0 = performance.now();
        const r = await fetch(`${svc.url}${paths[out.length % paths.length]}`);
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`GET answered ${r.status}`);
        out.push(performance.now() - t0);
      }
      return out;
    };
    const idle = await gets(() => true, 600);
    let done = 0;
    const t0 = performance.now();
    const flood = Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (done < COMPOSES) {
          done++;
          await post();
        }
      }),
    );
    // The same GETs from another process (Debian `wrk`, one connection): the
    // in-process figure also waits for this process's own 64 POST fetches.
    const apart = wrkLatency(`${svc.url}/api/1/composes/1`, 8);
    let flooding = true;
    void flood.then(() => {
      flooding = false;
    });
    const during = await gets(() => !flooding, 300);
    await flood;
    const separate = await apart;
    const floodS = (performance.now() - t0) / 1000;
    const full = await gets(() => true, 600);
    const ratio = (xs: number[]) => p(xs, 0.99) / p(idle, 0.99);
    console.log(`idle:              GET p50 ${ms(p(idle, 0.5))}  p99 ${ms(p(idle, 0.99))}`);
    console.log(
      `during the flood:  GET p50 ${ms(p(during, 0.5))}  p99 ${ms(p(during, 0.99))}  (${ratio(during).toFixed(2)}× idle; ${COMPOSES} POSTs in ${floodS.toFixed(1)} s, ${(COMPOSES / floodS).toFixed(0)}/s)`,
    );
    console.log(
      `during the flood, GET /composes/1 from a separate process (wrk, first 8 s): p50 ${ms(separate.p50)}  p99 ${ms(separate.p99)}  (${(separate.p99 / p(idle, 0.99)).toFixed(2)}× idle)`,
    );
    console.log(
      `${COMPOSES} waiting:     GET p50 ${ms(p(full, 0.5))}  p99 ${ms(p(full, 0.99))}  (${ratio(full).toFixed(2)}× idle)`,
    );
    console.log(
      `target: GET p99 with ${COMPOSES} queued within 2× idle — ${ratio(full) <= 2 ? "met" : "MISSED"}; under the flood ${ratio(during) <= 2 ? "met" : "MISSED"}`,
    );
  } finally {
    await svc.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFlood();
