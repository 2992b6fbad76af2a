/**
 * Renewing (PATCH) a removed compose regenerates it with exactly the same
 * NEVRAs, even after the source repo gained a newer version; if a pinned
 * package left the source, the copy fails naming it.
 */
import { execFile } from "node:child_process";
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, expect, test } from "vitest";
import { silentLogger } from "../../src/api/deps.ts";
import type { ComposeRpmRow } from "../../src/db/schema.ts";
import { expireComposes } from "../../src/sweep/expire.ts";
import { tempDir } from "../helpers/db.ts";
import { buildRpm } from "../helpers/rpmbuild.ts";
import {
  type ComposeJson,
  composeHarness,
  dnfInstallWithRepoFile,
  LIBDNF_REPO,
} from "../helpers/service.ts";

const run = promisify(execFile);
const nevras = (rows: ComposeRpmRow[]) =>
  rows.map((r) => `${r.treeArch} ${r.name}-${r.epoch}:${r.version}-${r.release}.${r.arch}`).sort();
const OLD_WGET = "wget-1.19.5-5.fc29.x86_64.rpm";

let h: Awaited<ReturnType<typeof composeHarness>>;
let repo: string;
let originalId: number;
let original: string[];

async function renew(id: number): Promise<ComposeJson> {
  const res = await h.request(`/api/1/composes/${id}`, {
    method: "PATCH",
    body: "{}",
    headers: { "Content-Type": "application/json" },
  });
  const body = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

/** Run the queue until it is empty. */
async function drain(): Promise<void> {
  const w = h.newWorker();
  while ((await w.fill()) > 0) await w.idle();
}

beforeAll(async () => {
  h = await composeHarness();
  repo = tempDir("odcs-regen-repo-");
  for (const f of [
    "noarch/abcde-2.9.2-1.fc29.noarch.rpm",
    `x86_64/${OLD_WGET}`,
    "x86_64/flac-1.3.2-8.fc29.x86_64.rpm",
  ])
    await copyFile(join(LIBDNF_REPO, f), join(repo, f.split("/")[1] ?? f));
  await run("createrepo_c", ["-q", repo]);
  const first = await h.run({ source: { type: "repo", source: repo, packages: ["abcde"] } });
  expect(first.state).toBe(2);
  originalId = first.id;
  original = nevras(await h.rpms(first.id));
  expect(original).toContain("x86_64 wget-0:1.19.5-5.fc29.x86_64");

  // The source moves on: a newer wget appears.
  const newer = await buildRpm({
    name: "wget",
    version: "1.21.0",
    release: "1",
    arch: "x86_64",
    files: ["/usr/bin/wget"],
  });
  await copyFile(newer.path, join(repo, newer.fileName));
  await run("createrepo_c", ["-q", repo]);

  // The original is removed (DELETE + sweep).
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
});

test("a fresh compose of the moved-on source takes the newer version", async () => {
  const fresh = await h.run({ source: { type: "repo", source: repo, packages: ["abcde"] } });
  expect(nevras(await h.rpms(fresh.id))).toContain("x86_64 wget-0:1.21.0-1.x86_64");
});

test("renewing the removed compose regenerates exactly the same NEVRAs", async () => {
  const copy = await renew(originalId);
  expect(copy.id).not.toBe(originalId);
  expect(copy.state_name).toBe("wait");
  await drain();
  expect(await h.get(copy.id)).toMatchObject({
    state_name: "done",
    state_reason: "Compose is generated successfully",
  });
  expect(nevras(await h.rpms(copy.id))).toEqual(original);
  // What dnf installs from the copy is the old set too.
  const text = (await run("cat", [join(h.dir(copy.id), `compose/Temporary/odcs-${copy.id}.repo`)]))
    .stdout;
  const installed = await dnfInstallWithRepoFile(text, ["abcde"], {
    rewrite: ["http://localhost/odcs", `file://${h.target}`],
  });
  expect(installed).toContain("wget-0:1.19.5-5.fc29.x86_64");
});

test("renewing when a pinned package left the source fails, naming it", async () => {
  await rm(join(repo, OLD_WGET));
  await run("createrepo_c", ["-q", repo]);
  const copy = await renew(originalId);
  await drain();
  expect(await h.get(copy.id)).toMatchObject({
    state_name: "failed",
    state_reason:
      "Error while generating compose: cannot regenerate the same package set for x86_64: the source no longer has wget-0:1.19.5-5.fc29.x86_64",
  });
  expect(await h.rpms(copy.id)).toEqual([]);
});
