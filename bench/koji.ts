/**
 * Koji `tag` compose benchmark: a tag of the 10 000 real RPMs of
 * bench/rpm-corpus.ts (one build each) on the protocol-level test hub
 * (XML-RPC and files over HTTP on loopback), the real service composing 200
 * names from it — cold (empty header cache: every header of the tag read
 * with Range requests) and warm (headers and downloaded RPMs cached) — side
 * by side with a `repo` compose of the same names over the same RPMs
 * (createrepo_c metadata, hardlinks), interleaved in the same run.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type KojiHub, KojiModel, startKojiHub } from "../test/helpers/koji-hub.ts";
import {
  composeLogTimings,
  composeRepo,
  countRpms,
  dnfInstall,
  median,
  type Service,
  startService,
  untilDone,
} from "./compose.ts";
import { loadRpmCorpus } from "./rpm-corpus.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const NAMES = 200;
const WARM_TARGET = 1.5;
const ms = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;
const kb = (x: number) => `${(x / 1024).toFixed(0)} KiB`;

async function run(svc: Service, body: unknown) {
  const started = performance.now();
  const res = await fetch(`${svc.base}/api/1/composes/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const created = (await res.json()) as { id?: number; message?: string };
  if (res.status !== 200 || created.id === undefined)
    throw new Error(`POST answered ${res.status}: ${JSON.stringify(created)}`);
  const got = await untilDone(svc, created.id);
  if (got.state_name !== "done")
    throw new Error(`compose ${created.id} ${got.state_name}: ${got.state_reason}`);
  return { ms: performance.now() - started, id: created.id };
}

/** What the hub served between two snapshots. */
function traffic(hub: KojiHub, since: { files: number; rpc: number }) {
  const files = hub.fileRequests.slice(since.files);
  const ranges = files.filter((f) => f.range !== null);
  const whole = files.filter((f) => f.range === null && f.method === "GET");
  return {
    rpc: hub.xmlrpcRequests - since.rpc,
    headerRequests: ranges.length,
    headerBytes: ranges.reduce((n, f) => n + f.bytes, 0),
    downloads: whole.length,
    downloadBytes: whole.reduce((n, f) => n + f.bytes, 0),
  };
}
const mark = (hub: KojiHub) => ({ files: hub.fileRequests.length, rpc: hub.xmlrpcRequests });

export async function benchKoji(): Promise<void> {
  const corpus = loadRpmCorpus();
  const work = mkdtempSync(join(ROOT, ".cache/bench/koji-"));
  let hub: KojiHub | undefined;
  let svc: Service | undefined;
  try {
    const t0 = performance.now();
    const files = readdirSync(join(corpus.dir, "Packages"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".rpm"))
      .map((f) => join(corpus.dir, "Packages", f));
    const model = new KojiModel({ topdir: join(work, "koji") });
    model.createTag("bench-f40", { arches: ["x86_64"] });
    for (const name of corpus.names) model.addPackage("bench-f40", name);
    const builds = model.importBuilds(files.map((f) => ({ rpms: [f] })));
    for (const b of builds) model.tagBuild("bench-f40", b.nvr);
    hub = await startKojiHub(model);
    console.log(
      `koji tag bench-f40: ${builds.length} builds (${files.length} RPMs) imported and tagged in ${ms(performance.now() - t0)}; last event ${model.lastEvent()}`,
    );
    svc = await startService(work, {
      ODCS_KOJI_HUB_URL: hub.hubUrl,
      ODCS_KOJI_TOPURL: hub.topurl,
      ODCS_CACHE_DIR: join(work, "cache"),
    });
    const names = corpus.request(NAMES);
    const tagBody = {
      source: { type: "tag", source: "bench-f40", packages: names },
      flags: ["no_reuse"],
    };
    const repoBody = {
      source: { type: "repo", source: corpus.dir, packages: names },
      flags: ["no_reuse"],
    };

    const before = mark(hub);
    const cold = await run(svc, tagBody);
    const t = traffic(hub, before);
    console.log(
      `cold tag compose (${NAMES} names, empty header cache): ${ms(cold.ms)}; ${t.rpc} XML-RPC requests; ${t.headerRequests} header Range requests, ${kb(t.headerBytes)} (${(t.headerBytes / Math.max(t.headerRequests, 1)).toFixed(0)} B each); ${t.downloads} RPMs downloaded, ${kb(t.downloadBytes)}`,
    );
    console.log(composeLogTimings(svc, cold.id));
    // The repo side's first compose parses the corpus metadata once (its cold start), untimed.
    await run(svc, repoBody);

    const warm: number[] = [];
    const repo: number[] = [];
    let warmTraffic = traffic(hub, mark(hub));
    let lastTag = cold.id;
    let lastRepo = 0;
    for (let i = 0; i < RUNS; i++) {
      const m = mark(hub);
      const w = await run(svc, tagBody);
      warmTraffic = traffic(hub, m);
      warm.push(w.ms);
      lastTag = w.id;
      const r = await run(svc, repoBody);
      repo.push(r.ms);
      lastRepo = r.id;
    }
    const ratio = median(warm) / median(repo);
    console.log(
      `warm tag compose: median ${ms(median(warm))} [${warm.map((x) => x.toFixed(0)).join(" ")}]; last one: ${warmTraffic.rpc} XML-RPC requests, ${warmTraffic.headerRequests} header requests, ${warmTraffic.downloads} downloads`,
    );
    console.log(
      `repo compose, same names: median ${ms(median(repo))} [${repo.map((x) => x.toFixed(0)).join(" ")}]`,
    );
    console.log(`warm tag / repo: ${ratio.toFixed(2)}× (target ≤ ${WARM_TARGET}×)`);
    console.log("last warm tag compose, per step:");
    console.log(composeLogTimings(svc, lastTag));
    console.log("last repo compose, per step:");
    console.log(composeLogTimings(svc, lastRepo));

    const tagRpms = countRpms(composeRepo(svc, lastTag));
    const repoRpms = countRpms(composeRepo(svc, lastRepo));
    const installed = dnfInstall(composeRepo(svc, lastTag), names, work);
    console.log(
      `correctness: tag compose ${tagRpms} RPMs, repo compose ${repoRpms} RPMs, dnf installed ${installed} from the tag compose (closure ${corpus.closure(names)})`,
    );
    const failures: string[] = [];
    if (ratio > WARM_TARGET)
      failures.push(`warm tag compose ${ratio.toFixed(2)}× the repo compose`);
    if (tagRpms !== repoRpms || installed !== tagRpms)
      failures.push("tag and repo composes differ");
    console.log(failures.length ? `MISSED: ${failures.join("; ")}` : "all targets met");
  } finally {
    await svc?.stop();
    await hub?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchKoji();
