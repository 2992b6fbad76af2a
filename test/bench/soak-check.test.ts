/**
 * The soak's checks (bench/soak-check.ts, its tree checks those of
 * test/helpers/published-tree.ts) catch what they claim to: a clean state
 * passes, and each fault put into it — an RPM deleted, corrupted or added,
 * a package dropped from primary, a repodata file not matching repomd.xml,
 * an ISO not matching images.json, a staging leftover served, STATUS
 * wrong, a failed compose publishing a tree, an event dropped or added, a
 * compose left unsettled with or without a job, an acknowledged compose
 * missing, a job completed twice — is reported by its own check and by no
 * other; correct checksums of other types than sha256 are no fault.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  cpSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkSoak, type SoakFindings } from "../../bench/soak-check.ts";
import type { Logger } from "../../src/api/deps.ts";
import { composeRpms, composes, events, jobs } from "../../src/db/schema.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

type Harness = Awaited<ReturnType<typeof composeHarness>>;
let h: Harness;
let done: number;
let reuser: number;
let failed: number;
let other: number;
let iso: number;
let rpmFile: string;
let repoDir: string;
const lines: string[] = [];
/** JSON lines as src/node/runtime.ts writes them. */
const jsonLog: Logger = Object.fromEntries(
  (["debug", "info", "warn", "error"] as const).map((level) => [
    level,
    (msg: string, fields?: Record<string, unknown>) =>
      lines.push(JSON.stringify({ level, component: "worker", msg, ...fields })),
  ]),
) as unknown as Logger;

const check = (
  over: { acked?: number[]; outputs?: { name: string; output: string }[]; cutOff?: number } = {},
) =>
  checkSoak({
    db: h.db,
    targetDir: h.target,
    writesCutOff: over.cutOff ?? 0,
    acked: over.acked ?? [done, reuser, failed, other, iso],
    outputs: over.outputs ?? [{ name: "1", output: lines.join("\n") }],
    now: h.clock.now().getTime(),
  });
const clean: SoakFindings = {
  lost: [],
  stuck: [],
  partial: [],
  double: [],
  missingEvents: [],
  leftovers: [],
  unacknowledged: [],
};

beforeAll(async () => {
  h = await composeHarness();
  const worker = h.newWorker("w1", { log: jsonLog });
  const body = { source: { type: "repo", source: LIBDNF_REPO, packages: ["dwm"] } };
  const runAll = async () => {
    while ((await worker.fill()) > 0) await worker.idle();
  };
  done = (await h.create({ ...body, flags: ["no_deps"] })).id;
  await runAll();
  reuser = (await h.create({ ...body, flags: ["no_deps"] })).id;
  failed = (await h.create({ source: { ...body.source, packages: ["no-such-package"] } })).id;
  other = (
    await h.create({
      source: { ...body.source, packages: ["lame"] },
      flags: ["no_deps", "no_reuse"],
    })
  ).id;
  iso = (await h.create({ ...body, flags: ["no_deps", "no_reuse"], results: ["iso"] })).id;
  await runAll();
  const rpm = (await h.rpms(done))[0];
  if (!rpm) throw new Error("no compose_rpms");
  repoDir = join(h.dir(done), "compose", "Temporary", rpm.treeArch, "os");
  rpmFile = join(repoDir, rpm.path);
});

/** Run `fault`, check, then `undo` it: what the checks found while it was there. */
async function withFault(fault: () => void, undo: () => void): Promise<SoakFindings> {
  fault();
  try {
    return await check();
  } finally {
    undo();
  }
}

/** The done compose's repodata rewritten by createrepo_c with `args`, put back by `undo`. */
function rewriteRepodata(args: string[]) {
  const backup = `${repoDir}/repodata.orig`;
  cpSync(join(repoDir, "repodata"), backup, { recursive: true });
  const run = spawnSync("createrepo_c", [...args, repoDir], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`createrepo_c: ${run.stderr}`);
  // createrepo_c keeps nothing of its own beside repodata/.
  return () => {
    rmSync(join(repoDir, "repodata"), { recursive: true });
    renameSync(backup, join(repoDir, "repodata"));
  };
}

const digest = (algo: string, file: string) =>
  createHash(algo).update(readFileSync(file)).digest("hex");
afterAll(() => h.stopAll());

describe("the soak's checks", () => {
  test("a clean run passes every check, with a done, a reusing and a failed compose", async () => {
    expect((await h.row(done)).state).toBe(2);
    expect((await h.row(reuser)).reusedId).toBe(done);
    expect((await h.row(failed)).state).toBe(4);
    // The done composes and the reuser; the failed one logs its failure instead.
    expect((await h.row(iso)).state).toBe(2);
    expect(lines.filter((l) => l.includes('"job done"'))).toHaveLength(4);
    expect(await check()).toEqual(clean);
  });

  test("a published RPM deleted, corrupted, or one too many is partial", async () => {
    renameSync(rpmFile, `${rpmFile}.away`);
    const missing = await check();
    renameSync(`${rpmFile}.away`, rpmFile);
    expect(missing).toEqual({ ...clean, partial: [expect.stringMatching(/missing$/)] });

    writeFileSync(`${rpmFile}.x`, "");
    renameSync(`${rpmFile}.x`, rpmFile.replace(/\.rpm$/, "-extra.rpm"));
    const extra = await check();
    rmSync(rpmFile.replace(/\.rpm$/, "-extra.rpm"));
    expect(extra).toEqual({ ...clean, partial: [expect.stringMatching(/not in compose_rpms$/)] });

    const copy = `${rpmFile}.orig`;
    renameSync(rpmFile, copy);
    writeFileSync(rpmFile, "");
    appendFileSync(rpmFile, "not the RPM");
    const corrupt = await check();
    renameSync(copy, rpmFile);
    expect(corrupt).toEqual({
      ...clean,
      partial: [
        expect.stringMatching(/is not the RPM compose_rpms records: its sha256 is /),
        expect.stringMatching(/is not byte for byte what primary says: its sha256 is /),
      ],
    });
    expect(await check()).toEqual(clean);
  });

  test("a package of compose_rpms dropped from primary is partial", async () => {
    const away = `${rpmFile}.away`;
    let undoRepodata = () => {};
    const found = await withFault(
      () => {
        // primary rewritten without it (repomd.xml consistent with it), the file put back.
        renameSync(rpmFile, away);
        undoRepodata = rewriteRepodata([]);
        renameSync(away, rpmFile);
      },
      () => undoRepodata(),
    );
    expect(found).toEqual({
      ...clean,
      partial: [expect.stringMatching(/: x86_64: primary does not list dwm-0:.* of compose_rpms$/)],
    });
    expect(await check()).toEqual(clean);
  });

  test("a repodata file that does not match its repomd.xml checksum is partial", async () => {
    const repomd = join(repoDir, "repodata", "repomd.xml");
    const text = readFileSync(repomd, "utf8");
    const m = /<data type="primary">[\s\S]*?<checksum type="(\w+)">(\w+)</.exec(text);
    if (!m?.[2]) throw new Error("no primary checksum");
    const wrong = text.replace(m[2], "0".repeat(m[2].length));
    const found = await withFault(
      () => writeFileSync(repomd, wrong),
      () => writeFileSync(repomd, text),
    );
    expect(found).toEqual({
      ...clean,
      partial: [
        expect.stringMatching(
          /: x86_64: repodata\/\S+-primary\.xml\.\w+ does not match repomd\.xml: its/,
        ),
      ],
    });
  });

  test("correct checksums of other types than sha256 (sha512 repodata, sha1 compose_rpms) are no fault; wrong ones are", async () => {
    const undo = rewriteRepodata(["--checksum", "sha512"]);
    try {
      const repomd = readFileSync(join(repoDir, "repodata", "repomd.xml"), "utf8");
      expect(repomd).toContain('<checksum type="sha512">');
      expect(await check()).toEqual(clean);
    } finally {
      undo();
    }
    const [row] = await h.rpms(done);
    if (!row) throw new Error("no compose_rpms");
    const set = (checksumType: string, checksum: string) =>
      h.db.update(composeRpms).set({ checksumType, checksum }).where(eq(composeRpms.id, row.id));
    await set("sha1", digest("sha1", rpmFile));
    const sha1 = await check();
    await set("sha1", "0".repeat(40));
    const wrongSha1 = await check();
    await set(row.checksumType, row.checksum);
    expect(sha1).toEqual(clean);
    expect(wrongSha1).toEqual({
      ...clean,
      partial: [
        expect.stringMatching(/is not the RPM compose_rpms records: its sha1 is \w+, not 0+$/),
      ],
    });
    expect(await check()).toEqual(clean);
  });

  test("an ISO that is not what images.json says, or a staging leftover served, is partial", async () => {
    const isoDir = join(h.dir(iso), "compose", "Temporary", "x86_64", "iso");
    const image = readdirSync(isoDir).find((f) => f.endsWith(".iso"));
    if (!image) throw new Error("no ISO");
    const isoFile = join(isoDir, image);
    const bytes = readFileSync(isoFile);
    const grown = await withFault(
      () => appendFileSync(isoFile, "x"),
      () => writeFileSync(isoFile, bytes),
    );
    expect(grown.partial).toEqual([
      expect.stringMatching(
        new RegExp(`^compose ${iso}: .*${image} has ${bytes.length + 1} bytes`),
      ),
      expect.stringMatching(new RegExp(`^compose ${iso}: .*${image} does not match images.json`)),
    ]);
    const leftover = join(h.dir(done), "compose", ".repodata");
    const served = await withFault(
      () => cpSync(join(repoDir, "repodata"), leftover, { recursive: true }),
      () => rmSync(leftover, { recursive: true }),
    );
    expect([...served.partial].sort()).toEqual(
      [
        `compose ${done}: compose/.repodata is served: a staging leftover`,
        ...readdirSync(join(repoDir, "repodata")).map(
          (f) => `compose ${done}: compose/.repodata/${f} is served: a staging leftover`,
        ),
      ].sort(),
    );
    expect(await check()).toEqual(clean);
  });

  test("STATUS not FINISHED, or the reused tree gone, is partial", async () => {
    const status = join(h.dir(done), "STATUS");
    writeFileSync(status, "STARTED\n");
    const found = await check();
    writeFileSync(status, "FINISHED\n");
    expect(found.partial.sort()).toEqual([
      `compose ${done}: STATUS is STARTED, not FINISHED`,
      `compose ${reuser}: reuses compose ${done}, whose tree is not there`,
    ]);
  });

  test("a regeneration with another package set than its original is partial", async () => {
    await h.db.update(composes).set({ regenerateOf: done }).where(eq(composes.id, other));
    const found = await check();
    await h.db.update(composes).set({ regenerateOf: null }).where(eq(composes.id, other));
    expect(found).toEqual({
      ...clean,
      partial: [`compose ${other}: regenerates compose ${done} with other packages`],
    });
  });

  test("a failed compose that published more than its log is partial", async () => {
    const extra = join(h.dir(failed), "compose");
    writeFileSync(extra, "");
    const found = await check();
    rmSync(extra);
    expect(found).toEqual({
      ...clean,
      partial: [`compose ${failed} (failed): published compose`],
    });
  });

  test("an event dropped or one too many is a missing event", async () => {
    const chain = await h.db
      .select()
      .from(events)
      .where(eq(events.composeId, done))
      .orderBy(events.id);
    expect(chain.map((e) => [e.fromState, e.toState])).toEqual([
      [null, 0],
      [0, 1],
      [1, 2],
    ]);
    const [, middle, last] = chain;
    if (!middle || !last) throw new Error("no events");
    await h.db.delete(events).where(eq(events.id, middle.id));
    const dropped = await check();
    await h.db.insert(events).values(middle);
    expect(dropped).toEqual({
      ...clean,
      missingEvents: [`compose ${done}: event ${last.id} 1->2 after 0`],
    });

    // A second completion's event: generating → done again.
    await h.db.insert(events).values({ ...last, id: last.id + 1000 });
    const twice = await check();
    await h.db.delete(events).where(eq(events.id, last.id + 1000));
    expect(twice).toEqual({
      ...clean,
      missingEvents: [`compose ${done}: event ${last.id + 1000} 1->2 after 2`],
    });
    expect(await check()).toEqual(clean);
  });

  test("a compose left unsettled is stuck with a live job and lost without one", async () => {
    await h.db.update(composes).set({ state: 1 }).where(eq(composes.id, failed));
    const lost = await check();
    await h.db.update(jobs).set({ state: "queued" }).where(eq(jobs.composeId, failed));
    const stuck = await check();
    await h.db.update(jobs).set({ state: "failed" }).where(eq(jobs.composeId, failed));
    await h.db.update(composes).set({ state: 4 }).where(eq(composes.id, failed));
    expect(lost.lost).toEqual([
      expect.stringMatching(
        new RegExp(
          `^compose ${failed}: generating and no job left to finish it \\(job \\d+ failed`,
        ),
      ),
    ]);
    expect(stuck.stuck).toEqual([
      expect.stringMatching(new RegExp(`^compose ${failed}: generating with a live job`)),
    ]);
    expect(stuck.lost).toEqual([]);
    expect(await check()).toEqual(clean);
  });

  test("an acknowledged compose that is not in the database is lost", async () => {
    expect((await check({ acked: [done, 9999] })).lost).toEqual([
      "compose 9999: acknowledged but absent",
    ]);
  });

  test("a staging tree or a tree being removed left once all is settled is a leftover", async () => {
    const staging = join(h.target, ".staging", `odcs-${done}`, "attempt-9");
    const removing = join(h.target, ".removing", `odcs-${other}-x`);
    const found = await withFault(
      () => {
        cpSync(join(repoDir, "repodata"), staging, { recursive: true });
        cpSync(join(repoDir, "repodata"), removing, { recursive: true });
      },
      () => {
        rmSync(join(h.target, ".staging", `odcs-${done}`), { recursive: true });
        rmSync(removing, { recursive: true });
      },
    );
    expect(found).toEqual({
      ...clean,
      leftovers: [
        expect.stringMatching(new RegExp(`^\\.staging holds odcs-${done}, odcs-${done}/attempt-9`)),
        expect.stringMatching(new RegExp(`^\\.removing holds odcs-${other}-x`)),
      ],
    });
    expect(await check()).toEqual(clean);
  });

  test("a compose nobody was told of is unacknowledged, unless a write was cut off for it", async () => {
    const acked = [done, reuser, failed, other];
    expect(await check({ acked })).toEqual({
      ...clean,
      unacknowledged: [
        `1 composes nobody was answered 200 for (${iso}), but only 0 writes were cut off`,
      ],
    });
    expect(await check({ acked, cutOff: 1 })).toEqual(clean);
  });

  test("a job completed by two processes is a double completion; a cut line is not", async () => {
    const doneLine = lines.find((l) => l.includes('"job done"')) ?? "";
    const job = (JSON.parse(doneLine) as { job: number }).job;
    const found = await check({
      outputs: [
        { name: "101", output: lines.join("\n") },
        { name: "102", output: `${doneLine}\n${doneLine.slice(0, 30)}` },
      ],
    });
    expect(found).toEqual({ ...clean, double: [`job ${job} completed by processes 101, 102`] });
  });
});
