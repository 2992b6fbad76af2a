/**
 * The soak's checks (bench/soak-check.ts) catch what they claim to: a
 * clean state passes, and each fault put into it — an RPM deleted,
 * corrupted or added, STATUS wrong, a failed compose publishing a tree, an
 * event dropped or added, a compose left unsettled with or without a job,
 * an acknowledged compose missing, a job completed twice — is reported by
 * its own check and by no other.
 */
import { appendFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkSoak, type SoakFindings } from "../../bench/soak-check.ts";
import type { Logger } from "../../src/api/deps.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

type Harness = Awaited<ReturnType<typeof composeHarness>>;
let h: Harness;
let done: number;
let reuser: number;
let failed: number;
let other: number;
let rpmFile: string;
const lines: string[] = [];
/** JSON lines as src/node/runtime.ts writes them. */
const jsonLog: Logger = Object.fromEntries(
  (["debug", "info", "warn", "error"] as const).map((level) => [
    level,
    (msg: string, fields?: Record<string, unknown>) =>
      lines.push(JSON.stringify({ level, component: "worker", msg, ...fields })),
  ]),
) as unknown as Logger;

const check = (over: { acked?: number[]; outputs?: { name: string; output: string }[] } = {}) =>
  checkSoak({
    db: h.db,
    targetDir: h.target,
    acked: over.acked ?? [done, reuser, failed, other],
    outputs: over.outputs ?? [{ name: "1", output: lines.join("\n") }],
    now: h.clock.now().getTime(),
  });
const clean: SoakFindings = { lost: [], stuck: [], partial: [], double: [], missingEvents: [] };

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
  await runAll();
  const rpm = (await h.rpms(done))[0];
  if (!rpm) throw new Error("no compose_rpms");
  rpmFile = join(h.dir(done), "compose", "Temporary", rpm.treeArch, "os", rpm.path);
});
afterAll(() => h.stopAll());

describe("the soak's checks", () => {
  test("a clean run passes every check, with a done, a reusing and a failed compose", async () => {
    expect((await h.row(done)).state).toBe(2);
    expect((await h.row(reuser)).reusedId).toBe(done);
    expect((await h.row(failed)).state).toBe(4);
    // The done composes and the reuser; the failed one logs its failure instead.
    expect(lines.filter((l) => l.includes('"job done"'))).toHaveLength(3);
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
      partial: [expect.stringMatching(/differs from its checksum$/)],
    });
    expect(await check()).toEqual(clean);
  });

  test("STATUS not FINISHED, or the reused tree gone, is partial", async () => {
    const status = join(h.dir(done), "STATUS");
    writeFileSync(status, "STARTED\n");
    const found = await check();
    writeFileSync(status, "FINISHED\n");
    expect(found.partial.sort()).toEqual([
      `compose ${done}: STATUS is not FINISHED`,
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
