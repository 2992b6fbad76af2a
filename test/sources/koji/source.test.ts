/**
 * The Koji source's parts against the test hub: the header cache on disk
 * (a new process has an empty memory part), headers read with HTTP Range
 * and from the top dir alike, and the reuse check (tagChangedSinceEvent
 * over the tag and its parents).
 */
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { KojiClient } from "../../../src/sources/koji/client.ts";
import { emptyTransferStats, type KojiTop } from "../../../src/sources/koji/files.ts";
import { KojiHeaderCache } from "../../../src/sources/koji/header-cache.ts";
import { listTaggedRpms } from "../../../src/sources/koji/hub.ts";
import { isTagComposeCurrent } from "../../../src/sources/koji/index.ts";
import { type CachedHeader, openKojiPackageSet } from "../../../src/sources/koji/package-set.ts";
import { tempDir } from "../../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../../helpers/koji-hub.ts";
import { buildRpms } from "../../helpers/rpmbuild.ts";

let model: KojiModel;
let hub: KojiHub;

beforeAll(async () => {
  const built = await buildRpms([
    { name: "ks-a", version: "1", release: "1", requires: ["ks-b"], files: ["/usr/share/ks-a"] },
    { name: "ks-b", version: "1", release: "1", files: ["/usr/share/ks-b"] },
    { name: "ks-b", version: "2", release: "1", files: ["/usr/share/ks-b2"] },
  ]);
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("ks-parent");
  model.createTag("ks-child");
  model.createTag("ks-other");
  model.addInheritance("ks-child", "ks-parent", 10);
  model.addPackage("ks-parent", "ks-a");
  model.addPackage("ks-parent", "ks-b");
  model.importBuilds(built.map((b) => ({ rpms: [b.path] })));
  model.tagBuild("ks-parent", "ks-a-1-1");
  model.tagBuild("ks-parent", "ks-b-1-1");
  hub = await startKojiHub(model);
}, 120_000);
afterAll(() => hub?.close());

async function open(top: KojiTop, cache: KojiHeaderCache<CachedHeader>) {
  const client = new KojiClient({ hubUrl: hub.hubUrl });
  const event = model.lastEvent();
  const { rpms, builds } = await listTaggedRpms(client, "ks-child", {
    event,
    inherit: true,
    arches: ["noarch"],
  });
  const stats = emptyTransferStats();
  const repo = await openKojiPackageSet(
    { origin: "test", rpms, builds: new Map(builds.map((b) => [b.id, b])), keys: [""] },
    { hub: client, top, cache, stats, signal: new AbortController().signal, timeoutMs: 10_000 },
  );
  return { repo, stats };
}

describe("header cache", () => {
  test("the first open reads each header once (Range, a few KB); a new process reads none (disk); the top dir reads the same headers", async () => {
    const dir = tempDir("odcs-hdr-");
    const url: KojiTop = { kind: "url", url: hub.topurl };
    const before = hub.fileRequests.length;
    const cold = await open(url, new KojiHeaderCache(dir));
    expect(cold.repo.repodata.packages.map((p) => `${p.name}-${p.version}`)).toEqual([
      "ks-a-1",
      "ks-b-1",
    ]);
    expect(cold.stats.headerRequests).toBe(2);
    const reqs = hub.fileRequests.slice(before);
    expect(reqs.map((r) => [r.method, r.range, r.status])).toEqual([
      ["GET", "bytes=0-8191", 206],
      ["GET", "bytes=0-8191", 206],
    ]);
    expect(cold.stats.headerBytes).toBe(reqs.reduce((n, r) => n + r.bytes, 0));

    // Two files per copy on disk: the header (.hdr); facts (.sum) come with the first placement.
    const shards = await readdir(dir);
    expect(shards.length).toBeGreaterThan(0);

    const warm = await open(url, new KojiHeaderCache(dir));
    expect(warm.stats.headerRequests).toBe(0);
    expect(hub.fileRequests.length - before).toBe(2);
    expect(warm.repo.repodata.packages.map((p) => p.requires.map((d) => d.name))).toEqual(
      cold.repo.repodata.packages.map((p) => p.requires.map((d) => d.name)),
    );

    const local = await open(
      { kind: "dir", dir: hub.topdir },
      new KojiHeaderCache(tempDir("odcs-hdr-")),
    );
    expect(local.stats.headerRequests).toBe(2);
    expect(local.repo.repodata.packages.map((p) => [p.name, p.headerStart, p.headerEnd])).toEqual(
      cold.repo.repodata.packages.map((p) => [p.name, p.headerStart, p.headerEnd]),
    );
  });
});

describe("reuse check", () => {
  test("a tag compose is current until the tag or a parent changes; a change elsewhere does not count", async () => {
    const config = {
      ODCS_KOJI_HUB_URL: hub.hubUrl,
      ODCS_KOJI_TIMEOUT_MS: 10_000,
      ODCS_KOJI_RETRIES: 0,
      ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    };
    const at = model.lastEvent();
    const done = { source: "ks-child", flags: 0, kojiEvent: at };
    expect(await isTagComposeCurrent(done, config)).toBe(true);
    model.tagBuild("ks-other", "ks-b-2-1");
    expect(await isTagComposeCurrent(done, config)).toBe(true);
    model.tagBuild("ks-parent", "ks-b-2-1");
    expect(await isTagComposeCurrent(done, config)).toBe(false);
    // With no_inheritance only the tag itself counts.
    expect(await isTagComposeCurrent({ ...done, flags: 2 }, config)).toBe(true);
    expect(await isTagComposeCurrent({ ...done, kojiEvent: null }, config)).toBe(false);
    expect(await isTagComposeCurrent({ ...done, source: "ks-nope" }, config)).toBe(false);
    const calls = hub.calls.filter((c) => c.method === "tagChangedSinceEvent");
    expect(calls.at(-1)?.params).toEqual([at, [2]]);
    expect(calls.at(-2)?.params).toEqual([at, [2, 1]]);
  });
});
