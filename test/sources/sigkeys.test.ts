import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import { listComposeRpms } from "../../src/db/compose-rpms.ts";
import { composes } from "../../src/db/schema.ts";
import { fetchRpmHeader } from "../../src/sources/sigkeys.ts";
import { Worker } from "../../src/worker/loop.ts";
import { finalDir, LOG_FILE } from "../../src/worker/paths.ts";
import { tempDir } from "../helpers/db.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { buildRpms, createRepo, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import { testApp } from "../helpers/test-app.ts";

const DONE = "Compose is generated successfully";
const COPR_REPO = `${FIXTURES_DIR}/repos/david35mm-fc34-copr-mirror`;
/** Last 8 hex digits of the copr key 6385ac577a6e318b (fixtures MANIFEST.tsv, sig_keyids). */
const COPR_SIGKEY = "7a6e318b";

const DESCRIPTIONS: RpmDescription[] = [
  { name: "sig-a", files: ["/usr/share/sig-a/README"] },
  { name: "sig-b", files: ["/usr/share/sig-b/README"] },
  { name: "plain", files: ["/usr/share/plain/README"] },
  // Not a candidate for an x86_64 compose: never read, never reported.
  { name: "arm-only", arch: "aarch64", files: ["/usr/lib64/arm-only.so"] },
];

let keyA: TestKey;
let keyB: TestKey;
/** sig-a (key A), sig-b (key B), plain (unsigned), arm-only (unsigned aarch64). */
let mixedRepo = "";
/** sig-a, sig-b, arm-only. */
let signedRepo = "";
/** sig-a, plain, arm-only. */
let aPlainRepo = "";

beforeAll(async () => {
  const [built, a, b] = await Promise.all([
    buildRpms(DESCRIPTIONS),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
  keyA = a;
  keyB = b;
  const [sigA, sigB, plain, armOnly] = built.map((r) => r.path);
  if (!sigA || !sigB || !plain || !armOnly) throw new Error("rpmbuild built too little");
  const signedA = await signRpm(sigA, keyA);
  const signedB = await signRpm(sigB, keyB);
  mixedRepo = await createRepo(tempDir("odcs-sig-mixed-"), [signedA, signedB, plain, armOnly]);
  signedRepo = await createRepo(tempDir("odcs-sig-signed-"), [signedA, signedB, armOnly]);
  aPlainRepo = await createRepo(tempDir("odcs-sig-a-plain-"), [signedA, plain, armOnly]);
}, 120_000);

/** API app + one worker over a temp target dir; `run` drives a compose to its end. */
async function harness(config: Record<string, unknown> = {}) {
  const target = tempDir("odcs-sig-target-");
  const t = await testApp({ config: { ODCS_TARGET_DIR: target, ...config } });
  const worker = new Worker({
    db: t.db,
    config: t.deps.config,
    now: () => t.clock.now(),
    log: silentLogger,
    workerId: "sigkeys",
  });
  const run = async (source: Record<string, unknown>) => {
    const res = await t.postJson("/api/1/composes/", {
      source: { type: "repo", ...source },
      arches: ["x86_64"],
      // Each compose built (these count header reads per compose), never reused.
      flags: ["no_reuse"],
    });
    const body = (await res.json()) as { id: number };
    expect(res.status, JSON.stringify(body)).toBe(200);
    while ((await worker.fill()) > 0) await worker.idle();
    const [row] = await t.db.select().from(composes).where(eq(composes.id, body.id));
    if (!row) throw new Error(`no compose ${body.id}`);
    const rpms = (await listComposeRpms(t.db, row.id))
      .map((r) => ({ name: r.name, sigkey: r.sigkey }))
      .sort((x, y) => x.name.localeCompare(y.name));
    const log = await readFile(join(finalDir(target, row.id), LOG_FILE), "utf8");
    return { row, rpms, log };
  };
  return { run, worker };
}

/** How many headers the compose log says were read; undefined when none were looked at. */
const headersRead = (log: string) => {
  const m = /sigkeys: read (\d+) RPM headers in [\d.]+ ms \((\d+) already known\)/.exec(log);
  return m ? { read: Number(m[1]), known: Number(m[2]) } : undefined;
};

describe("sigkeys from the RPM headers of a local repo", () => {
  test("[A] fails, naming every package without a key-A signature", async () => {
    const h = await harness();
    const { row, log } = await h.run({ source: mixedRepo, sigkeys: [keyA.sigkey] });
    expect(row.stateReason).toBe(
      `Error while generating compose: these packages for x86_64 have no signature by an allowed key (sigkeys "${keyA.sigkey}"): plain-1.0-1.noarch, sig-b-1.0-1.noarch`,
    );
    expect(headersRead(log)).toEqual({ read: 3, known: 0 });
  });

  test("[A, B] accepts both keys; the unsigned package alone is reported", async () => {
    const h = await harness();
    const mixed = await h.run({ source: mixedRepo, sigkeys: [keyA.sigkey, keyB.sigkey] });
    expect(mixed.row.stateReason).toMatch(/allowed key \(sigkeys "[^"]+"\): plain-1.0-1.noarch$/);
    const signed = await h.run({ source: signedRepo, sigkeys: [keyA.sigkey, keyB.sigkey] });
    expect(signed.row.stateReason).toBe(DONE);
    expect(signed.rpms).toEqual([
      { name: "sig-a", sigkey: keyA.sigkey },
      { name: "sig-b", sigkey: keyB.sigkey },
    ]);
    expect(headersRead(signed.log)).toEqual({ read: 2, known: 0 });
  });

  test('[A, ""] takes the unsigned package too; 16-hex upper-case ids are normalised', async () => {
    const h = await harness();
    const { row, rpms } = await h.run({
      source: aPlainRepo,
      sigkeys: [keyA.keyId.toUpperCase(), ""],
    });
    expect(row.stateReason).toBe(DONE);
    expect(rpms).toEqual([
      { name: "plain", sigkey: null },
      { name: "sig-a", sigkey: keyA.sigkey },
    ]);
    // "" allows unsigned copies, not copies signed by another key.
    const mixed = await h.run({ source: mixedRepo, sigkeys: ["", keyA.sigkey] });
    expect(mixed.row.stateReason).toMatch(/allowed key \(sigkeys "[^"]+"\): sig-b-1.0-1.noarch$/);
  });

  test("no sigkeys (absent or []): no filter and no header read", async () => {
    const h = await harness();
    for (const source of [{ source: mixedRepo }, { source: mixedRepo, sigkeys: [] }]) {
      const { row, rpms, log } = await h.run(source);
      expect(row.stateReason).toBe(DONE);
      expect(rpms.map((r) => r.name)).toEqual(["plain", "sig-a", "sig-b"]);
      expect(rpms.every((r) => r.sigkey === null)).toBe(true);
      expect(headersRead(log)).toBeUndefined();
    }
  });

  test("a second compose of the same repodata reads no header again", async () => {
    const h = await harness();
    const first = await h.run({ source: signedRepo, sigkeys: [keyB.sigkey, keyA.sigkey] });
    const second = await h.run({ source: signedRepo, sigkeys: [keyA.sigkey, keyB.sigkey] });
    expect(headersRead(first.log)).toEqual({ read: 2, known: 0 });
    expect(headersRead(second.log)).toEqual({ read: 0, known: 2 });
    expect(second.rpms).toEqual(first.rpms);
  });

  test("the copr fixture composes with its key's 8-hex id", async () => {
    const h = await harness();
    const { row, rpms, log } = await h.run({ source: COPR_REPO, sigkeys: [COPR_SIGKEY] });
    expect(row.stateReason).toBe(DONE);
    expect(rpms.length).toBeGreaterThan(0);
    expect(rpms.every((r) => r.sigkey === COPR_SIGKEY)).toBe(true);
    // 5 x86_64 + 7 noarch; the aarch64 and src packages are not read.
    expect(headersRead(log)).toEqual({ read: 12, known: 0 });
    // A partial mirror: the debuginfo listed in the metadata has no file, so it is left out.
    expect(log).toContain(
      "sigkeys: left out, listed but missing from the source: x86_64/herbstluftwm-debuginfo-0.9.3-2.fc34.x86_64.rpm",
    );
    expect(rpms.map((r) => r.name)).not.toContain("herbstluftwm-debuginfo");
    expect(rpms.map((r) => r.name)).toContain("herbstluftwm");
  });
});

/** Serves `root` on 127.0.0.1, honouring `Range: bytes=a-b` unless `ignoreRange`; counts RPM requests. */
async function serve(root: string, opts: { ignoreRange?: boolean } = {}) {
  const counts = { rangeRequests: 0, fullRequests: 0, bytesSent: 0 };
  const server: Server = createServer(async (req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const size = await stat(path).then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined,
    );
    if (size === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const isRpm = path.endsWith(".rpm");
    if (range && !opts.ignoreRange) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), size - 1);
      if (isRpm) counts.rangeRequests++;
      if (start >= size) {
        res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return;
      }
      if (isRpm) counts.bytesSent += end - start + 1;
      res.writeHead(206, {
        "Content-Range": `bytes ${start}-${end}/${size}`,
        "Content-Length": end - start + 1,
      });
      createReadStream(path, { start, end }).pipe(res);
      return;
    }
    if (isRpm) counts.fullRequests++;
    res.writeHead(200, { "Content-Length": size });
    createReadStream(path)
      .on("data", (c) => {
        if (isRpm) counts.bytesSent += c.length;
      })
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { url, counts };
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(
    servers.map((s) => new Promise((resolve) => s.close(resolve).closeAllConnections())),
  );
});

describe("sigkeys over HTTP", () => {
  test("Range requests read the headers; same results as the local repo", async () => {
    const srv = await serve("/");
    const h = await harness({ ODCS_ALLOWED_REPO_URLS: srv.url });
    const signed = await h.run({
      source: `${srv.url}${signedRepo}`,
      sigkeys: [keyA.sigkey, keyB.sigkey],
    });
    expect(signed.row.stateReason).toBe(DONE);
    expect(signed.rpms).toEqual([
      { name: "sig-a", sigkey: keyA.sigkey },
      { name: "sig-b", sigkey: keyB.sigkey },
    ]);
    // One Range request per candidate (the metadata's header-range sizes it), then the downloads.
    expect(srv.counts.rangeRequests).toBe(2);
    expect(srv.counts.fullRequests).toBe(2);

    const failed = await h.run({ source: `${srv.url}${mixedRepo}`, sigkeys: [keyA.sigkey] });
    expect(failed.row.stateReason).toMatch(
      /have no signature by an allowed key \(sigkeys "[0-9a-f]{8}"\): plain-1.0-1.noarch, sig-b-1.0-1.noarch$/,
    );
    expect(srv.counts.rangeRequests).toBe(5);
  });

  test("headers larger than the first read take more Range requests", async () => {
    const srv = await serve("/");
    const stats = { requests: 0, bytes: 0 };
    const header = await fetchRpmHeader(`${srv.url}${signedRepo}/sig-b-1.0-1.noarch.rpm`, {
      signal: AbortSignal.timeout(10_000),
      timeoutMs: 10_000,
      initialBytes: 100,
      stats,
    });
    expect(header.sigkey).toBe(keyB.sigkey);
    expect(stats.requests).toBeGreaterThanOrEqual(2);
    expect(stats.requests).toBe(srv.counts.rangeRequests);
    expect(stats.bytes).toBe(header.headerEnd);
  });

  test("a server that ignores Range: the headers are read from the stream, then cancelled", async () => {
    const srv = await serve("/", { ignoreRange: true });
    const h = await harness({ ODCS_ALLOWED_REPO_URLS: srv.url });
    const { row, rpms } = await h.run({
      source: `${srv.url}${signedRepo}`,
      sigkeys: [keyA.sigkey, keyB.sigkey],
    });
    expect(row.stateReason).toBe(DONE);
    expect(rpms.map((r) => r.sigkey)).toEqual([keyA.sigkey, keyB.sigkey]);
    expect(srv.counts.rangeRequests).toBe(0);
    expect(srv.counts.fullRequests).toBe(4);
  });
});
