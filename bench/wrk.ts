/**
 * Debian's `wrk` as the benches' load and latency client: another process,
 * so what it measures is the server's time, not the bench's own event loop.
 */
import { spawn } from "node:child_process";

export interface WrkFigures {
  rps: number;
  requests: number;
  /** Latency percentiles, in ms. */
  p50: number;
  p99: number;
  non2xx: number;
}

export interface WrkOptions {
  threads?: number;
  connections?: number;
  seconds: number;
  /** A Lua script (`-s`): request shapes. */
  script?: string | undefined;
}

/** wrk's latency with unit, in ms. */
function toMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) throw new Error(`unreadable wrk latency ${s}`);
  const f = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"];
  return Number(m[1]) * f;
}

/** Runs `wrk --latency` against `url` and reads its figures. */
export function wrk(url: string, o: WrkOptions): Promise<WrkFigures> {
  const args = [`-t${o.threads ?? 1}`, `-c${o.connections ?? 1}`, `-d${o.seconds}s`, "--latency"];
  if (o.script) args.push("-s", o.script);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", [...args, url]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", (e) =>
      reject(new Error(`wrk: ${e.message} (install the Debian package wrk)`)),
    );
    child.on("close", () => {
      try {
        const num = (re: RegExp) => {
          const m = re.exec(out);
          if (!m?.[1]) throw new Error(`wrk output without ${re}:\n${out}${err}`);
          return m[1];
        };
        resolve({
          rps: Number(num(/Requests\/sec:\s+([\d.]+)/)),
          requests: Number(num(/(\d+) requests in/)),
          p50: toMs(num(/\s50%\s+(\S+)/)),
          p99: toMs(num(/\s99%\s+(\S+)/)),
          non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}
