/**
 * The worker picks the compose's source by its type (`sources/index.ts`),
 * and failures the request itself causes are final at the first attempt.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composes } from "../../src/db/schema.ts";
import { ComposeError } from "../../src/sources/errors.ts";
import { sourceFor } from "../../src/sources/index.ts";
import { kojiBuildSource, kojiTagSource } from "../../src/sources/koji/index.ts";
import { pulpSource } from "../../src/sources/pulp/index.ts";
import { repoSource } from "../../src/sources/repo.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { givenCompose } from "../helpers/given.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

const ERROR = "Error while generating compose: ";

let h: Awaited<ReturnType<typeof composeHarness>>;
beforeAll(async () => {
  h = await composeHarness({ ODCS_JOB_MAX_ATTEMPTS: 3 });
});
afterAll(async () => {
  await h.stopAll();
});

/** Run the queue on one worker until nothing is claimable (the fake clock keeps retries waiting). */
async function drain() {
  const w = h.newWorker();
  while ((await w.fill()) > 0) await w.idle();
}

describe("dispatch by source type", () => {
  it("repo, tag, build and pulp have their sources; a type without a source fails the compose", () => {
    expect(sourceFor("repo")).toBe(repoSource);
    expect(sourceFor("tag")).toBe(kojiTagSource);
    expect(sourceFor("build")).toBe(kojiBuildSource);
    expect(sourceFor("pulp")).toBe(pulpSource);
    expect(() => sourceFor("raw_config")).toThrow(ComposeError);
    expect(() => sourceFor("raw_config")).toThrow(
      'this worker cannot generate "raw_config" composes',
    );
  });

  it("a repo source pins its source and lookaside locations to their repomd.xml", async () => {
    const lookaside = `${FIXTURES_DIR}/repos/librepo-yum-mock-01`;
    const row = await givenCompose(h.db, { source: LIBDNF_REPO, lookasideRepos: lookaside });
    const lines: string[] = [];
    const ctx = {
      config: h.config,
      cache: h.newWorker().cache,
      signal: new AbortController().signal,
      log: (line: string) => lines.push(line),
    };
    const pin = async (dir: string) =>
      `sha256:${createHash("sha256")
        .update(await readFile(join(dir, "repodata/repomd.xml")))
        .digest("hex")}`;
    expect(await repoSource.resolve(row, ctx)).toEqual({
      source: [LIBDNF_REPO],
      lookaside: [lookaside],
      repomd: { [LIBDNF_REPO]: await pin(LIBDNF_REPO), [lookaside]: await pin(lookaside) },
    });
    expect(lines.sort()).toEqual([
      `pinning lookaside repo ${lookaside} (its repomd.xml)`,
      `pinning source ${LIBDNF_REPO} (its repomd.xml)`,
    ]);
    await h.db.delete(composes).where(eq(composes.id, row.id));
  });

  it("a stored compose of a type this worker cannot generate fails at the first attempt", async () => {
    const c = await h.create({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abc"] } });
    await h.db
      .update(composes)
      .set({ sourceType: 5, source: "cfg#main" })
      .where(eq(composes.id, c.id));
    await drain();
    const row = await h.row(c.id);
    expect({ state: row.state, reason: row.stateReason }).toEqual({
      state: 4,
      reason: `${ERROR}this worker cannot generate "raw_config" composes`,
    });
    expect((await h.jobOf(c.id)).attempts).toBe(1);
  });
});

describe("errors caused by the request are not retried", () => {
  it("a package pattern that is no valid glob fails at the first attempt with the reason", async () => {
    const c = await h.create({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["[z-a]"] },
    });
    await drain();
    const row = await h.row(c.id);
    expect({ state: row.state, reason: row.stateReason }).toEqual({
      state: 4,
      reason: `${ERROR}package pattern "[z-a]" is not a valid glob`,
    });
    expect((await h.jobOf(c.id)).attempts).toBe(1);
  });

  it("a malformed sigkey stored on the compose fails at the first attempt with the reason", async () => {
    const c = await h.create({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abc"] } });
    // Stored before PATCH checked sigkeys as POST does.
    await h.db.update(composes).set({ sigkeys: "nothex" }).where(eq(composes.id, c.id));
    await drain();
    const row = await h.row(c.id);
    expect({ state: row.state, reason: row.stateReason }).toEqual({
      state: 4,
      reason: `${ERROR}invalid sigkey "nothex": expected 8 or 16 hex digits`,
    });
    expect((await h.jobOf(c.id)).attempts).toBe(1);
  });

  it("a source location no longer allowed fails at the first attempt", async () => {
    const c = await h.create({ source: { type: "repo", source: LIBDNF_REPO, packages: ["abc"] } });
    await h.db.update(composes).set({ source: "relative/path" }).where(eq(composes.id, c.id));
    await drain();
    const row = await h.row(c.id);
    expect({ state: row.state, reason: row.stateReason }).toEqual({
      state: 4,
      reason: `${ERROR}Repository path "relative/path" must be absolute`,
    });
    expect((await h.jobOf(c.id)).attempts).toBe(1);
  });
});
