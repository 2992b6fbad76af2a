/**
 * `tag` and `build` composes made by the real worker against the
 * protocol-level test hub (XML-RPC over HTTP, files over HTTP with Range or
 * from its top dir): tags with inheritance and priorities, several builds
 * of one package, untag/retag at later events, a blocked package, signed
 * and unsigned copies, listed builds, unknown tags and NVRs, hub failures.
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { ComposeRpmRow } from "../../src/db/schema.ts";
import { expireComposes } from "../../src/sweep/expire.ts";
import { tempDir } from "../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../helpers/koji-hub.ts";
import { publishedTreeProblems } from "../helpers/published-tree.ts";
import { type BuiltRpm, buildRpms, type RpmDescription } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "../helpers/rpmsign.ts";
import { composeHarness, dnfInstallWithRepoFile } from "../helpers/service.ts";

const DESCS: RpmDescription[] = [
  {
    name: "kb-app",
    version: "1.0",
    release: "1",
    arch: "x86_64",
    requires: ["kb-lib >= 1.0"],
    files: ["/usr/bin/kb-app"],
  },
  { name: "kb-lib", version: "1.0", release: "1", files: ["/usr/share/kb-lib/1.0"] },
  { name: "kb-lib", version: "2.0", release: "1", files: ["/usr/share/kb-lib/2.0"] },
  { name: "kb-lib", version: "1.5", release: "1", files: ["/usr/share/kb-lib/1.5"] },
  { name: "kb-tool", version: "3.0", release: "1", files: ["/usr/bin/kb-tool"] },
  { name: "kb-extra", version: "1.0", release: "1", files: ["/usr/share/kb-extra"] },
  { name: "kb-new", version: "1.0", release: "1", files: ["/usr/share/kb-new"] },
  { name: "kb-broken", version: "1.0", release: "1", files: ["/usr/share/kb-broken"] },
];

let built: BuiltRpm[];
let keyA: TestKey;
let keyB: TestKey;
let model: KojiModel;
let hub: KojiHub;
/** Events of the story below. */
const ev = { childCreated: 0, lib2: 0, lib15: 0, blocked: 0, lib10: 0, untagged: 0 };

const pathOf = (name: string, version: string) => {
  const b = built.find((x) => x.description.name === name && x.description.version === version);
  if (!b) throw new Error(`not built: ${name}-${version}`);
  return b.path;
};

beforeAll(async () => {
  [built, keyA, keyB] = await Promise.all([
    buildRpms(DESCS),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  // child kb-f40 inherits kb-base (priority 10) and kb-extras (priority 20)
  model.createTag("kb-base");
  model.createTag("kb-extras");
  ev.childCreated = model.createTag("kb-f40", { arches: ["x86_64"] }).event;
  model.addInheritance("kb-f40", "kb-base", 10);
  model.addInheritance("kb-f40", "kb-extras", 20);
  for (const p of ["kb-app", "kb-lib", "kb-tool", "kb-extra", "kb-new", "kb-broken"])
    model.addPackage("kb-base", p);
  model.addPackage("kb-extras", "kb-tool");
  model.importBuilds([
    { rpms: [pathOf("kb-app", "1.0")] },
    { rpms: [pathOf("kb-lib", "1.0")] },
    { rpms: [pathOf("kb-lib", "2.0")] },
    { rpms: [pathOf("kb-lib", "1.5")] },
    { rpms: [pathOf("kb-tool", "3.0")] },
    { rpms: [pathOf("kb-extra", "1.0")] },
    { rpms: [pathOf("kb-new", "1.0")], state: "BUILDING" },
    { rpms: [pathOf("kb-broken", "1.0")], state: "FAILED" },
  ]);
  model.tagBuild("kb-base", "kb-app-1.0-1");
  model.tagBuild("kb-base", "kb-lib-2.0-1");
  model.tagBuild("kb-extras", "kb-tool-3.0-1");
  ev.lib2 = model.tagBuild("kb-base", "kb-extra-1.0-1");
  // Tagged later, with a lower NVR: "latest" is the most recently tagged.
  ev.lib15 = model.tagBuild("kb-base", "kb-lib-1.5-1");
  ev.blocked = model.blockPackage("kb-f40", "kb-extra");
  // kb-lib 1.0 is in the child itself: it wins over the parent's
  ev.lib10 = model.tagBuild("kb-f40", "kb-lib-1.0-1");
  ev.untagged = model.untagBuild("kb-f40", "kb-lib-1.0-1");
  // signed copies: kb-lib-1.5 with A (copy written) and B (signature only); kb-app with B
  model.signRpm("kb-lib-1.5-1.noarch", await signRpm(pathOf("kb-lib", "1.5"), keyA));
  model.signRpm("kb-lib-1.5-1.noarch", await signRpm(pathOf("kb-lib", "1.5"), keyB), {
    writeCopy: false,
  });
  model.signRpm("kb-app-1.0-1.x86_64", await signRpm(pathOf("kb-app", "1.0"), keyB));
  hub = await startKojiHub(model);
}, 180_000);
afterAll(() => hub?.close());

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const nevras = (rows: ComposeRpmRow[]) =>
  rows
    .map((r) => `${r.name}-${r.version}-${r.release}.${r.arch}${r.sigkey ? ` (${r.sigkey})` : ""}`)
    .sort();

function harness(files: "url" | "dir" = "url", extra: Record<string, unknown> = {}) {
  return composeHarness({
    ODCS_KOJI_HUB_URL: hub.hubUrl,
    ...(files === "url" ? { ODCS_KOJI_TOPURL: hub.topurl } : { ODCS_KOJI_TOPDIR: hub.topdir }),
    ODCS_CACHE_DIR: tempDir("odcs-cache-"),
    ...extra,
  });
}
type Harness = Awaited<ReturnType<typeof harness>>;

/** A tag compose request; built afresh (`no_reuse`) unless `top.flags` says otherwise. */
const tag = (source: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  source: { type: "tag", source: "kb-f40", ...source },
  flags: ["no_reuse"],
  ...top,
});

describe("tag composes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness("url");
  });

  test("now: inheritance, priorities, latest = most recently tagged; koji_event stored; dnf installs it", async () => {
    const row = await h.run(tag({ packages: ["kb-app", "kb-tool"] }));
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(row.kojiEvent).toBe(model.lastEvent());
    expect(nevras(await h.rpms(row.id))).toEqual([
      "kb-app-1.0-1.x86_64",
      "kb-lib-1.5-1.noarch",
      "kb-tool-3.0-1.noarch",
    ]);
    const repoFile = await readFile(
      join(h.dir(row.id), `compose/Temporary/odcs-${row.id}.repo`),
      "utf8",
    );
    const installed = await dnfInstallWithRepoFile(repoFile, ["kb-app"], {
      rewrite: ["http://localhost/odcs", `file://${h.target}`],
    });
    expect(installed.sort()).toEqual(["kb-app-0:1.0-1.x86_64", "kb-lib-0:1.5-1.noarch"]);
  });

  test("a first compose of a tag (no digest cached yet) records each RPM's sha256 in compose_rpms", async () => {
    const fresh = await harness("url");
    try {
      const row = await fresh.run(tag({ packages: ["kb-tool"] }));
      expect(row.state).toBe(2);
      const [rpm] = await fresh.rpms(row.id);
      const file = join(
        fresh.dir(row.id),
        "compose/Temporary",
        rpm?.treeArch ?? "",
        "os",
        rpm?.path ?? "",
      );
      expect(rpm).toMatchObject({ checksumType: "sha256", checksum: sha256(await readFile(file)) });
      expect(await publishedTreeProblems(fresh.db, fresh.target)).toEqual([]);
    } finally {
      await fresh.stopAll();
    }
  });

  test("at an earlier event: what the tag held then (the child's own build, before it was untagged)", async () => {
    const row = await h.run(tag({ packages: ["kb-app"], koji_event: ev.lib10 }));
    expect(row.kojiEvent).toBe(ev.lib10);
    expect(nevras(await h.rpms(row.id))).toEqual(["kb-app-1.0-1.x86_64", "kb-lib-1.0-1.noarch"]);
    const before = await h.run(tag({ packages: ["kb-lib"], koji_event: ev.lib2 }));
    expect(nevras(await h.rpms(before.id))).toEqual(["kb-lib-2.0-1.noarch"]);
  });

  test("a package blocked in the child is not there; no_inheritance sees the child's own builds only", async () => {
    const blocked = await h.run(tag({ packages: ["kb-extra"] }));
    expect(blocked.stateReason).toBe(
      "Error while generating compose: The following requested packages are not present in the generated compose: kb-extra.",
    );
    const own = await h.run(
      tag(
        { packages: ["kb-lib"], koji_event: ev.lib10 },
        { flags: ["no_inheritance", "no_reuse"] },
      ),
    );
    expect(nevras(await h.rpms(own.id))).toEqual(["kb-lib-1.0-1.noarch"]);
    const none = await h.run(
      tag({ packages: ["kb-app"] }, { flags: ["no_inheritance", "no_reuse"] }),
    );
    expect(none.stateReason).toMatch(/not present in the generated compose: kb-app\.$/);
  });

  test("builds on top of the tag replace the tag's build of the same package", async () => {
    const row = await h.run(tag({ packages: ["kb-app"], builds: ["kb-lib-2.0-1"] }));
    expect(nevras(await h.rpms(row.id))).toEqual(["kb-app-1.0-1.x86_64", "kb-lib-2.0-1.noarch"]);
  });

  test("without packages: every package of the tag, newest tagged per name", async () => {
    const row = await h.run(tag({}));
    expect(nevras(await h.rpms(row.id))).toEqual([
      "kb-app-1.0-1.x86_64",
      "kb-lib-1.5-1.noarch",
      "kb-tool-3.0-1.noarch",
    ]);
  });

  test("an unknown tag, and an event before the tag existed, fail with a reason", async () => {
    const nope = await h.run({ source: { type: "tag", source: "kb-nope" } });
    expect(nope.state).toBe(4);
    expect(nope.stateReason).toBe(
      "Error while generating compose: Koji tag kb-nope does not exist",
    );
    const early = await h.run(tag({ koji_event: ev.childCreated - 1 }));
    expect(early.stateReason).toBe(
      `Error while generating compose: Koji tag kb-f40 did not exist yet at event ${ev.childCreated - 1}`,
    );
    const future = await h.run(tag({ koji_event: model.lastEvent() + 10 }));
    expect(future.stateReason).toBe(
      `Error while generating compose: Koji event ${model.lastEvent() + 10} does not exist yet: the hub's last event is ${model.lastEvent()}`,
    );
  });
});

describe("signed copies", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness("url");
  });

  test("each package takes the copy of the most preferred key; the unsigned file only where allowed", async () => {
    const row = await h.run(tag({ packages: ["kb-app"], sigkeys: [keyA.sigkey, keyB.sigkey] }));
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(nevras(await h.rpms(row.id))).toEqual([
      `kb-app-1.0-1.x86_64 (${keyB.sigkey})`,
      `kb-lib-1.5-1.noarch (${keyA.sigkey})`,
    ]);
    // The files are the signed copies: the repodata checksums are theirs.
    const rows = await h.rpms(row.id);
    const lib = rows.find((r) => r.name === "kb-lib");
    expect(lib?.location).toBe(
      `packages/kb-lib/1.5/1/data/signed/${keyA.sigkey}/noarch/kb-lib-1.5-1.noarch.rpm`,
    );
    const repoFile = await readFile(
      join(h.dir(row.id), `compose/Temporary/odcs-${row.id}.repo`),
      "utf8",
    );
    expect(
      await dnfInstallWithRepoFile(repoFile, ["kb-app"], {
        rewrite: ["http://localhost/odcs", `file://${h.target}`],
      }),
    ).toContain("kb-lib-0:1.5-1.noarch");
  });

  test("a recorded signature without a signed copy is not a copy; nothing acceptable fails naming each NVR and the keys", async () => {
    const row = await h.run(tag({ packages: ["kb-app"], sigkeys: [keyB.sigkey] }));
    expect(row.stateReason).toBe(
      `Error while generating compose: these packages have no copy signed by an allowed key (sigkeys "${keyB.sigkey}"): kb-lib-1.5-1.noarch (keys ${keyB.sigkey}: no signed copy for ${keyB.sigkey})`,
    );
    const unsignedOk = await h.run(tag({ packages: ["kb-app"], sigkeys: [keyB.sigkey, ""] }));
    expect(nevras(await h.rpms(unsignedOk.id))).toEqual([
      `kb-app-1.0-1.x86_64 (${keyB.sigkey})`,
      "kb-lib-1.5-1.noarch",
    ]);
    const onlyA = await h.run(tag({ packages: ["kb-app", "kb-tool"], sigkeys: [keyA.sigkey] }));
    expect(onlyA.stateReason).toBe(
      `Error while generating compose: these packages have no copy signed by an allowed key (sigkeys "${keyA.sigkey}"): kb-app-1.0-1.x86_64 (keys ${keyA.sigkey}: no signature recorded), kb-tool-3.0-1.noarch (keys ${keyA.sigkey}: no signature recorded)`,
    );
  });

  test("packages the compose does not take may be unsigned", async () => {
    const row = await h.run(tag({ packages: ["kb-lib"], sigkeys: [keyA.sigkey] }));
    expect(nevras(await h.rpms(row.id))).toEqual([`kb-lib-1.5-1.noarch (${keyA.sigkey})`]);
  });
});

describe("build composes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness("dir");
  });

  test("exactly the listed builds; packages picks among their RPMs; files hardlinked from the top dir", async () => {
    const row = await h.run({
      source: { type: "build", builds: ["kb-app-1.0-1", "kb-lib-2.0-1", "kb-tool-3.0-1"] },
    });
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(row.kojiEvent).toBeNull();
    expect(nevras(await h.rpms(row.id))).toEqual([
      "kb-app-1.0-1.x86_64",
      "kb-lib-2.0-1.noarch",
      "kb-tool-3.0-1.noarch",
    ]);
    const log = await readFile(join(h.dir(row.id), "pungi-stderr.log"), "utf8");
    expect(log).toMatch(/x86_64: placed 3 RPMs \(3 hardlinked\)/);
    const picked = await h.run({
      source: {
        type: "build",
        builds: ["kb-app-1.0-1", "kb-lib-2.0-1", "kb-tool-3.0-1"],
        packages: ["kb-tool"],
      },
    });
    expect(nevras(await h.rpms(picked.id))).toEqual(["kb-tool-3.0-1.noarch"]);
  });

  test("unknown NVRs and builds that are not COMPLETE fail, each named", async () => {
    const row = await h.run({
      source: {
        type: "build",
        builds: ["kb-app-1.0-1", "kb-nope-1-1", "kb-new-1.0-1", "kb-broken-1.0-1"],
      },
    });
    expect(row.stateReason).toBe(
      "Error while generating compose: Cannot compose the requested builds; unknown to the Koji hub: kb-nope-1-1; not COMPLETE: kb-broken-1.0-1 (FAILED), kb-new-1.0-1 (BUILDING)",
    );
  });
});

describe("headers: a persistent cache; files: verified", () => {
  test("a second compose of the same tag reads no header and downloads no file again", async () => {
    const cache = tempDir("odcs-cache-shared-");
    const h = await harness("url", { ODCS_CACHE_DIR: cache });
    const ranges = () => hub.fileRequests.filter((r) => r.range !== null).length;
    const r0 = ranges();
    const first = await h.run(tag({ packages: ["kb-app"] }));
    const firstRanges = ranges() - r0;
    expect(firstRanges).toBeGreaterThanOrEqual(3);
    const second = await h.run(tag({ packages: ["kb-app"] }));
    expect(nevras(await h.rpms(second.id))).toEqual(nevras(await h.rpms(first.id)));
    expect(ranges() - r0 - firstRanges).toBe(0);
    const log = await readFile(join(h.dir(second.id), "pungi-stderr.log"), "utf8");
    expect(log).toMatch(/koji: 3 headers ready in \d+ ms \(0 header reads, 0 bytes/);
    // The files too come from the download cache (hardlinks), verified when they were downloaded.
    expect(log).toMatch(/x86_64: placed 2 RPMs \(2 hardlinked\)/);
    // Header reads never fetch whole files: each Range ends within the first 8 KiB or what the header needs.
    for (const r of hub.fileRequests.filter((x) => x.range !== null))
      expect(r.bytes).toBeLessThan(64 * 1024);
  });

  test("a compose that names no event reuses the last listing while the tag and its parents are unchanged (pinned to its event)", async () => {
    const h = await harness("url");
    const listed = () => hub.calls.filter((c) => c.method === "listTaggedRPMS").length;
    const a = await h.run(tag({ packages: ["kb-tool"] }));
    const n = listed();
    model.createTag("kb-unrelated");
    const b = await h.run(tag({ packages: ["kb-tool"] }));
    expect(b.kojiEvent).toBe(a.kojiEvent);
    expect(listed()).toBe(n);
    const changed = model.tagBuild("kb-extras", "kb-lib-2.0-1");
    const c = await h.run(tag({ packages: ["kb-tool"] }));
    expect(c.kojiEvent).toBe(changed);
    expect(listed()).toBe(n + 1);
    const log = await readFile(join(h.dir(b.id), "pungi-stderr.log"), "utf8");
    expect(log).toMatch(/listed before and unchanged since/);
  });

  test("a download whose payload does not match the hub's payloadhash is retried, then fails the compose", async () => {
    const h = await harness("url");
    const file = model.rpmPath("kb-tool-3.0-1.noarch");
    const good = await readFile(file);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    // A new file, not a write through the hardlink into the rpmbuild cache.
    await rm(file);
    await writeFile(file, bad);
    const reason =
      /http:\/\/127\.0\.0\.1:\d+\/packages\/kb-tool\/3\.0\/1\/noarch\/kb-tool-3\.0-1\.noarch\.rpm has payload MD5 [0-9a-f]{32}, but the Koji hub says [0-9a-f]{32}$/;
    try {
      const c = await h.create(tag({ packages: ["kb-tool"] }));
      const w = h.newWorker();
      while ((await w.fill()) > 0) await w.idle();
      expect((await h.jobOf(c.id)).lastError).toMatch(reason);
      for (let i = 0; i < 3 && (await h.row(c.id)).state !== 4; i++) {
        h.clock.advance(3_600_000);
        while ((await w.fill()) > 0) await w.idle();
      }
      const row = await h.row(c.id);
      expect(row.state).toBe(4);
      expect(row.stateReason?.replace("Error while generating compose: ", "")).toMatch(reason);
    } finally {
      await rm(file);
      await writeFile(file, good);
    }
  });
});

describe("reuse (ODCS §12)", () => {
  test("a tag compose is reused while neither the tag nor a parent changed since its event; then built anew", async () => {
    const h = await harness("url");
    const req = tag({ packages: ["kb-tool"] }, { flags: [] });
    const a = await h.run(req);
    expect(a.stateReason).toBe("Compose is generated successfully");
    expect(a.reusedId).toBeNull();
    model.createTag("kb-unrelated-2");
    const b = await h.run(req);
    expect({ reused: b.reusedId, event: b.kojiEvent, state: b.state }).toEqual({
      reused: a.id,
      event: a.kojiEvent,
      state: 2,
    });
    // A change in a parent (kb-extras) makes the old compose stale.
    const changed = model.tagBuild("kb-extras", "kb-extra-1.0-1");
    const c = await h.run(req);
    expect({ reused: c.reusedId, event: c.kojiEvent }).toEqual({ reused: null, event: changed });
    expect(nevras(await h.rpms(c.id))).toEqual(["kb-tool-3.0-1.noarch"]);
    // Another request (other packages) is never a candidate.
    const d = await h.run(tag({ packages: ["kb-lib"] }, { flags: [] }));
    expect(d.reusedId).toBeNull();
  });

  test("a build compose with the same builds is reused", async () => {
    const h = await harness("dir");
    const req = { source: { type: "build", builds: ["kb-tool-3.0-1", "kb-lib-2.0-1"] } };
    const a = await h.run(req);
    const b = await h.run({ source: { type: "build", builds: ["kb-lib-2.0-1", "kb-tool-3.0-1"] } });
    expect(b.reusedId).toBe(a.id);
    const c = await h.run({ ...req, flags: ["no_reuse"] });
    expect(c.reusedId).toBeNull();
  });
});

describe("hub failures", () => {
  test("connection resets are retried inside the compose; ServerOffline fails the attempt and the job retries", async () => {
    const h = await harness("url");
    hub.failNext(2, "reset");
    const row = await h.run(tag({ packages: ["kb-tool"] }));
    expect(row.stateReason).toBe("Compose is generated successfully");

    // Twice: the reuse step's pinning, then the build's own.
    hub.failNext(2, "offline");
    const c = await h.create(tag({ packages: ["kb-tool"] }));
    const w = h.newWorker();
    while ((await w.fill()) > 0) await w.idle();
    const job = await h.jobOf(c.id);
    expect(job.state).toBe("queued");
    expect(job.lastError).toMatch(/Koji hub \w+ failed: database outage \(fault 1014\)/);
    h.clock.advance(3_600_000);
    while ((await w.fill()) > 0) await w.idle();
    expect((await h.row(c.id)).stateReason).toBe("Compose is generated successfully");
  });
});

describe("renewing a removed tag compose (last: it moves the tag on)", () => {
  test("regenerates the same NEVRAs and signed copies at the same event, after the tag and the signatures moved on", async () => {
    const h = await harness("url");
    const first = await h.run(tag({ packages: ["kb-app"], sigkeys: [keyA.sigkey, ""] }));
    const original = nevras(await h.rpms(first.id));
    expect(original).toEqual(["kb-app-1.0-1.x86_64", `kb-lib-1.5-1.noarch (${keyA.sigkey})`]);

    // The tag moves on (kb-lib 1.5 untagged: 2.0 is the latest again), and kb-app gets an A signature.
    model.untagBuild("kb-base", "kb-lib-1.5-1");
    model.signRpm("kb-app-1.0-1.x86_64", await signRpm(pathOf("kb-app", "1.0"), keyA));
    const fresh = await h.run(tag({ packages: ["kb-app"], sigkeys: [keyA.sigkey, ""] }));
    expect(nevras(await h.rpms(fresh.id))).toEqual([
      `kb-app-1.0-1.x86_64 (${keyA.sigkey})`,
      "kb-lib-2.0-1.noarch",
    ]);

    expect((await h.request(`/api/1/composes/${first.id}`, { method: "DELETE" })).status).toBe(202);
    h.clock.advance(1);
    expect(
      await expireComposes({
        db: h.db,
        now: () => h.clock.now(),
        log: silentLogger,
        targetDir: h.target,
      }),
    ).toEqual([first.id]);
    const res = await h.request(`/api/1/composes/${first.id}`, {
      method: "PATCH",
      body: "{}",
      headers: { "Content-Type": "application/json" },
    });
    const copy = (await res.json()) as { id: number; koji_event: number };
    expect(res.status).toBe(200);
    expect(copy.koji_event).toBe(first.kojiEvent);
    const w = h.newWorker();
    while ((await w.fill()) > 0) await w.idle();
    const row = await h.row(copy.id);
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(nevras(await h.rpms(copy.id))).toEqual(original);
  });
});
