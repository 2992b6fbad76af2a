/**
 * Issue 18 item 3: a `repo` compose over HTTP behind the fault-injecting
 * proxy. Transient faults (5xx, resets, truncated bodies, stalls past the
 * timeout) are retried a bounded number of times with backoff and the
 * compose comes out whole; lasting ones fail it saying what and where (a
 * checksum mismatch names the file); every timeout is honoured; aborting a
 * job (shutdown, the compose's timeout) ends a stalled download at once.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { composeHarness, LIBDNF_REPO, repoServer } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

let upstream: Awaited<ReturnType<typeof repoServer>>;
let proxy: FaultProxy;

beforeAll(async () => {
  upstream = await repoServer(LIBDNF_REPO);
  proxy = await startFaultProxy(upstream.url);
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

const RPM = /\/x86_64\/flac-1[^/]*\.rpm$/;
const body = () => ({
  source: { type: "repo", source: proxy.url, packages: ["flac"] },
  flags: ["no_deps", "no_reuse"],
});
const harness = (config: Record<string, unknown> = {}) =>
  composeHarness({
    ODCS_ALLOWED_REPO_URLS: proxy.url,
    ODCS_DOWNLOAD_TIMEOUT_MS: "1000",
    ODCS_JOB_MAX_ATTEMPTS: "1",
    ...config,
  });

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** The compose's RPMs are byte-identical to the fixture's. */
async function expectWhole(h: Awaited<ReturnType<typeof harness>>, id: number) {
  const rows = await h.rpms(id);
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) {
    const published = join(h.dir(id), "compose/Temporary", r.treeArch, "os", r.path);
    expect(await sha256(published)).toBe(await sha256(join(LIBDNF_REPO, r.location)));
  }
}

describe("transient faults are retried and the compose is whole", () => {
  const cases = [
    ["a 503 on repomd.xml", { match: /repomd\.xml$/, fault: "status", status: 503 }],
    ["a 502 on the RPM", { match: RPM, fault: "status", status: 502 }],
    ["a reset before the answer", { match: /primary\.xml/, fault: "reset" }],
    ["an RPM cut off halfway", { match: RPM, fault: "truncate" }],
    ["an RPM whose body stalls past the timeout", { match: RPM, fault: "stall" }],
    ["a server that never answers", { match: /repomd\.xml$/, fault: "stall-headers" }],
  ] as const;
  for (const [what, rule] of cases) {
    it(what, async () => {
      const h = await harness();
      proxy.clear();
      const before = proxy.requests.length;
      proxy.rule({ ...rule, times: 2 });
      try {
        const row = await h.run(body());
        expect(row.stateReason).toBe("Compose is generated successfully");
        expect(row.state).toBe(2);
        await expectWhole(h, row.id);
        const mine = proxy.requests.slice(before).filter((r) => rule.match.test(r.path));
        // Two faults, then the good answer: three tries, not more.
        expect(mine.map((r) => r.fault)).toEqual([rule.fault, rule.fault, undefined]);
      } finally {
        proxy.clear();
        await h.stopAll();
      }
    });
  }
});

describe("lasting faults fail the compose saying what and where", () => {
  it("a corrupt RPM: checksum mismatch naming the file, not retried", async () => {
    const h = await harness({ ODCS_JOB_MAX_ATTEMPTS: "3" });
    proxy.clear();
    const before = proxy.requests.length;
    proxy.rule({ match: RPM, fault: "corrupt" });
    try {
      const row = await h.run(body());
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(
        /^Error while generating compose: checksum mismatch: http:\/\/127\.0\.0\.1:\d+\/x86_64\/flac-1\.3\.2-8\.fc29\.x86_64\.rpm has sha256 [0-9a-f]{64}, but the metadata says [0-9a-f]{64}$/,
      );
      expect(proxy.requests.slice(before).filter((r) => RPM.test(r.path))).toHaveLength(1);
      expect((await h.jobOf(row.id)).attempts).toBe(1);
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });

  it("corrupt metadata: fails naming the metadata file", async () => {
    const h = await harness({ ODCS_JOB_MAX_ATTEMPTS: "3" });
    proxy.clear();
    proxy.rule({ match: /primary\.xml/, fault: "corrupt" });
    try {
      const row = await h.run(body());
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(
        /^Error while generating compose: cannot read the metadata of http:\/\/127\.0\.0\.1:\d+\/: cannot read primary metadata repodata\/primary\.xml\.gz: its sha256 is [0-9a-f]{64}, but repomd\.xml says [0-9a-f]{64} \(corrupt or truncated\)$/,
      );
      expect((await h.jobOf(row.id)).attempts).toBe(1);
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });

  it("a 404: not retried", async () => {
    const h = await harness();
    proxy.clear();
    const before = proxy.requests.length;
    proxy.rule({ match: RPM, fault: "status", status: 404 });
    try {
      const row = await h.run(body());
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(/flac-1\.3\.2-8\.fc29\.x86_64\.rpm answered HTTP 404/);
      expect(proxy.requests.slice(before).filter((r) => RPM.test(r.path))).toHaveLength(1);
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });

  it("a 503 that lasts: three tries, then retryable for the job, and the reason names the URL", async () => {
    const h = await harness({ ODCS_JOB_MAX_ATTEMPTS: "2" });
    proxy.clear();
    const before = proxy.requests.length;
    proxy.rule({ match: /repomd\.xml$/, fault: "status", status: 503 });
    try {
      const c = await h.create(body());
      const w = h.newWorker();
      await w.fill();
      await w.idle();
      const job = await h.jobOf(c.id);
      expect(job).toMatchObject({ state: "queued", attempts: 1 });
      expect(job.lastError).toMatch(/repomd\.xml answered HTTP 503/);
      expect(job.runAt).toBeGreaterThan(h.clock.now().getTime());
      h.clock.advance(job.runAt - h.clock.now().getTime());
      await w.fill();
      await w.idle();
      const row = await h.row(c.id);
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(/repomd\.xml answered HTTP 503/);
      const tries = proxy.requests.slice(before).filter((r) => /repomd\.xml$/.test(r.path));
      // Bounded: two attempts of the job, three tries per fetch of repomd.xml (pin, open).
      expect(tries.length).toBeGreaterThanOrEqual(2 * 3);
      expect(tries.length).toBeLessThanOrEqual(2 * 2 * 3);
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });

  it("a stall on every try: each try ends at ODCS_DOWNLOAD_TIMEOUT_MS and the reason says so", async () => {
    const h = await harness();
    proxy.clear();
    proxy.rule({ match: RPM, fault: "stall" });
    try {
      const row = await h.run(body());
      expect(row.state).toBe(4);
      expect(row.stateReason).toMatch(
        /downloading http:\/\/127\.0\.0\.1:\d+\/x86_64\/flac-1[^ ]+\.rpm failed: no complete answer within 1000 ms \(ODCS_DOWNLOAD_TIMEOUT_MS\)/,
      );
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });
});

describe("aborting a job ends a stalled download at once", () => {
  it("worker shutdown: the proxy sees the client leave, the job goes back to the queue", async () => {
    const h = await harness({ ODCS_DOWNLOAD_TIMEOUT_MS: "600000" });
    proxy.clear();
    const before = proxy.requests.length;
    proxy.rule({ match: RPM, fault: "stall" });
    try {
      const c = await h.create(body());
      const w = h.newWorker();
      await w.fill();
      await waitFor(() => proxy.requests.slice(before).some((r) => RPM.test(r.path)), {
        what: "the RPM download to start",
      });
      // Far below the 10-minute download timeout: the abort, not the timeout, ends it.
      await waitFor(
        async () => {
          await w.stop(0);
          return true;
        },
        { timeoutMs: 10_000, what: "the worker to stop" },
      );
      const stalled = proxy.requests.slice(before).filter((r) => RPM.test(r.path));
      await waitFor(() => stalled.every((r) => r.aborted), {
        timeoutMs: 5_000,
        what: "the proxy to see the download dropped",
      });
      expect(await h.jobOf(c.id)).toMatchObject({ state: "queued", lockedBy: null });
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });

  it("the compose's own timeout (ODCS_GENERATE_TIMEOUT_SECONDS) fails it mid-download", async () => {
    const h = await harness({
      ODCS_DOWNLOAD_TIMEOUT_MS: "600000",
      ODCS_GENERATE_TIMEOUT_SECONDS: "1",
    });
    proxy.clear();
    const before = proxy.requests.length;
    proxy.rule({ match: RPM, fault: "stall" });
    try {
      const row = await h.run(body());
      expect(row.state).toBe(4);
      expect(row.stateReason).toBe(
        "Error while generating compose: Compose has taken more time than allowed by configuration (1 seconds)",
      );
      const stalled = proxy.requests.slice(before).filter((r) => RPM.test(r.path));
      expect(stalled.length).toBeGreaterThan(0);
      await waitFor(() => stalled.every((r) => r.aborted), {
        timeoutMs: 5_000,
        what: "the proxy to see the download dropped",
      });
    } finally {
      proxy.clear();
      await h.stopAll();
    }
  });
});
