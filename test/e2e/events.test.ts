/**
 * Event delivery in the real service processes: a webhook receiver that is
 * down across a server restart, one that hangs, two servers on one
 * database, and the metrics of the server and of a worker started alone.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import {
  freePort,
  LIBDNF_REPO,
  ROOT,
  type ServiceProcess,
  type StartOptions,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";
import { webhookReceiver } from "../helpers/webhook-receiver.ts";

const SECRET = "e2e-secret";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: StartOptions): Promise<ServiceProcess> {
  const svc = await startService(opts);
  cleanups.push(() => svc.stop());
  return svc;
}

async function receiver() {
  const rx = await webhookReceiver(SECRET);
  cleanups.push(rx.close);
  return rx;
}

function hookEnv(urls: string[], origin: string, extra: Record<string, string> = {}) {
  return {
    ODCS_WEBHOOKS: JSON.stringify(urls.map((url) => ({ url, secret: SECRET }))),
    ODCS_ALLOWED_WEBHOOK_URLS: `${origin}/hooks`,
    ODCS_EVENTS_POLL_MS: "50",
    ODCS_EVENTS_RETRY_BASE_MS: "100",
    ODCS_EVENTS_RETRY_MAX_MS: "400",
    ...extra,
  };
}

async function composeDone(svc: ServiceProcess): Promise<{ id: number; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    body: JSON.stringify({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } }),
    headers: { "Content-Type": "application/json" },
  });
  const { id } = (await res.json()) as { id: number };
  const done = await fetch(`${svc.url}/api/1/composes/${id}/wait?state=done&timeout=30`);
  expect(((await done.json()) as { state_name: string }).state_name).toBe("done");
  return { id, ms: Date.now() - t0 };
}

describe("webhooks in the service", () => {
  it("a receiver down across a server restart gets every event afterwards, in order, signed", async () => {
    const rx = await receiver();
    rx.setMode("fail");
    const env = hookEnv([rx.url], rx.origin);
    const first = await start({ env });
    const { id } = await composeDone(first);
    await waitFor(() => rx.received.length >= 2, { what: "retried deliveries" });
    expect(new Set(rx.received.map((r) => r.eventId)).size).toBe(1);
    await first.stop();
    rx.setMode("ok");
    await start({ env, dataDir: first.dataDir });
    await waitFor(() => rx.accepted().length === 3, { timeoutMs: 20_000, what: "3 deliveries" });
    expect(rx.accepted().map((r) => [r.body.compose.id, r.body.compose.state_name])).toEqual([
      [id, "wait"],
      [id, "generating"],
      [id, "done"],
    ]);
    expect(rx.accepted().every((r) => r.signatureValid)).toBe(true);
  }, 90_000);

  it("a hanging receiver delays neither composes nor another webhook", async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.setMode("hang");
    const svc = await start({
      env: hookEnv([slow.url, fast.url], "http://127.0.0.1", {
        ODCS_ALLOWED_WEBHOOK_URLS: `${slow.origin}/hooks,${fast.origin}/hooks`,
        ODCS_WEBHOOK_TIMEOUT_MS: "60000",
      }),
    });
    const runs = [await composeDone(svc), await composeDone(svc)];
    for (const r of runs) expect(r.ms).toBeLessThan(5000);
    await waitFor(() => fast.accepted().length === 6, { what: "6 deliveries to the fast hook" });
    expect(slow.received).toHaveLength(1);
    // Shutdown does not wait for the hanging request.
    const t0 = Date.now();
    expect(await svc.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 60_000);

  it("two servers on one database deliver each event to a webhook once", async () => {
    const rx = await receiver();
    const env = hookEnv([rx.url], rx.origin);
    const a = await start({ env });
    const b = await start({ env, dataDir: a.dataDir });
    for (let i = 0; i < 4; i++) await composeDone(i % 2 ? a : b);
    await waitFor(() => rx.accepted().length >= 12, { timeoutMs: 20_000, what: "12 deliveries" });
    const ids = rx.accepted().map((r) => Number(r.eventId));
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  }, 90_000);

  it("a webhook URL outside ODCS_ALLOWED_WEBHOOK_URLS stops the start with a message naming it", async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/main.ts")], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          ODCS_WEBHOOKS: JSON.stringify([{ url: "http://127.0.0.1:9/hooksevil", secret: "x" }]),
          ODCS_ALLOWED_WEBHOOK_URLS: "http://127.0.0.1:9/hooks",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.once("exit", (code) => {
        clearTimeout(killer);
        resolve({ code, stderr });
      });
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "odcs: invalid setting ODCS_WEBHOOKS.0.url: http://127.0.0.1:9/hooksevil is not under a prefix of ODCS_ALLOWED_WEBHOOK_URLS (http://127.0.0.1:9/hooks)\n",
    );
  });
});

describe("metrics of the processes", () => {
  it("the server's /api/1/metrics/ shows sweep runs, delivery lag, generation times and request durations", async () => {
    const rx = await receiver();
    rx.setMode("fail");
    const svc = await start({
      env: hookEnv([rx.url], rx.origin, { ODCS_SWEEP_CRON: "* * * * * *" }),
    });
    const { id } = await composeDone(svc);
    const scrape = async () => (await fetch(`${svc.url}/api/1/metrics/`)).text();
    const text = await waitFor(
      async () => {
        const t = await scrape();
        return /odcs_sweep_runs_total\{outcome="ok"\} [1-9]/.test(t) &&
          /odcs_compose_generation_seconds_count\{source_type="repo",state="done"\} 1/.test(t)
          ? t
          : false;
      },
      { timeoutMs: 15_000, what: "a sweep run and the generation in the metrics" },
    );
    const fams = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    const lag = fams.get("odcs_event_delivery_lag_seconds")?.metrics[0];
    expect(lag?.labels).toEqual({ consumer: `webhook:${rx.url}` });
    expect(Number(lag?.value)).toBeGreaterThan(0);
    expect(
      fams
        .get("composes_total")
        ?.metrics.find((m) => m.labels?.source_type === "repo" && m.labels?.state === "done")
        ?.value,
    ).toBe("1.0");
    expect(text).toMatch(
      /odcs_http_request_duration_seconds_count\{method="GET",route="\/api\/1\/composes\/:id\/wait",status="200"\} 1/,
    );
    expect(id).toBe(1);
  }, 60_000);

  it("a worker started alone serves its own metrics on ODCS_WORKER_METRICS_PORT", async () => {
    const port = await freePort();
    const worker = await start({
      entry: "src/worker.ts",
      env: { ODCS_WORKER_METRICS_PORT: String(port), ODCS_WORKER_CONCURRENCY: "3" },
      readyText: "worker started",
    });
    const text = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        return res?.ok ? res.text() : false;
      },
      { what: "the worker's metrics" },
    );
    const fams = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    expect(fams.get("odcs_worker_jobs_running")?.metrics[0]?.value).toBe("0");
    expect(fams.get("odcs_worker_concurrency")?.metrics[0]?.value).toBe("3");
    expect(fams.get("odcs_queue_depth")?.metrics).toEqual([
      { value: "0", labels: { state: "queued" } },
      { value: "0", labels: { state: "running" } },
    ]);
    expect(fams.has("process_cpu_user_seconds_total")).toBe(true);
    expect(worker.output()).not.toMatch(/error/i);
  }, 60_000);
});
