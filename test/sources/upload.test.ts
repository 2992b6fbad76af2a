/**
 * `upload` composes end to end in process: RPMs POSTed to the real app,
 * a real worker composing them (dependencies closed over a lookaside repo,
 * sigkeys checked against the headers), dnf installing from the .repo.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import { type BuiltRpm, buildRpms, createRepo } from "../helpers/rpmbuild.ts";
import { createTestKey, signRpms, type TestKey } from "../helpers/rpmsign.ts";
import { composeHarness, dnfInstallWithRepoFile } from "../helpers/service.ts";
import { fromFiles, multipart, type UploadJson } from "../helpers/uploads.ts";

let app: BuiltRpm;
let lib: BuiltRpm;
let base: BuiltRpm;
let key: TestKey;
let signed: string[];
let lookaside: string;
let h: Awaited<ReturnType<typeof composeHarness>>;

beforeAll(async () => {
  [app, lib, base] = (await buildRpms([
    {
      name: "upc-app",
      arch: "x86_64",
      requires: ["upc-lib >= 1.5"],
      files: ["/usr/bin/upc-app"],
    },
    { name: "upc-lib", version: "1.5", requires: ["upc-base"], files: ["/usr/share/upc/lib"] },
    { name: "upc-base", files: ["/usr/share/upc/base"] },
  ])) as [BuiltRpm, BuiltRpm, BuiltRpm];
  key = await createTestKey("rsa");
  signed = await signRpms([app.path, lib.path], key);
  lookaside = tempDir("odcs-upload-lookaside-");
  await createRepo(lookaside, [base.path]);
  h = await composeHarness({ ODCS_ALLOWED_REPO_ROOTS: [lookaside] });
}, 120_000);
afterAll(async () => {
  await h.stopAll();
  rmSync(lookaside, { recursive: true, force: true });
});

async function upload(paths: string[]): Promise<UploadJson> {
  const res = await h.request("/api/1/uploads/", {
    method: "POST",
    body: multipart(await fromFiles(paths)),
  });
  const body = (await res.json()) as UploadJson;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

const nevra = (r: {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}) => `${r.name}-${r.epoch}:${r.version}-${r.release}.${r.arch}`;

describe("a compose from an upload", () => {
  test("has the requested package and its uploaded deps (not the lookaside's); dnf installs it", async () => {
    const up = await upload([app.path, lib.path]);
    const row = await h.run({
      source: { type: "upload", source: up.id, packages: ["upc-app"] },
      lookaside_repos: [lookaside],
    });
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(row.state).toBe(2);
    expect(row.source).toBe(up.id);
    expect(row.sourceType).toBe(8);
    expect((await h.rpms(row.id)).map(nevra).sort()).toEqual([
      "upc-app-0:1.0-1.x86_64",
      "upc-lib-0:1.5-1.noarch",
    ]);
    const json = await h.get(row.id);
    expect(json.source_type).toBe(8);
    const repoFile = `${json.result_repofile}`.replace("http://localhost/odcs", h.target);
    const { readFile } = await import("node:fs/promises");
    const text = `${await readFile(repoFile, "utf8")}\n[lookaside]\nname=lookaside\nbaseurl=file://${lookaside}\ngpgcheck=0\n`;
    const installed = await dnfInstallWithRepoFile(text, ["upc-app"], {
      rewrite: ["http://localhost/odcs", `file://${h.target}`],
    });
    expect(installed).toEqual([
      "upc-app-0:1.0-1.x86_64",
      "upc-base-0:1.0-1.noarch",
      "upc-lib-0:1.5-1.noarch",
    ]);
  });

  test("without the lookaside repo, check_deps fails naming the missing dependency", async () => {
    const up = await upload([app.path, lib.path]);
    const row = await h.run({
      source: { type: "upload", source: up.id, packages: ["upc-app"] },
      flags: ["check_deps"],
    });
    expect(row.state).toBe(4);
    expect(row.stateReason).toMatch(/upc-base/);
  });

  test("sigkeys are checked against the headers: signed uploads pass, unsigned ones fail", async () => {
    const good = await upload(signed);
    expect(good.files.map((f) => f.sigkey)).toEqual([key.sigkey, key.sigkey]);
    const ok = await h.run({
      source: { type: "upload", source: good.id, sigkeys: [key.sigkey] },
      lookaside_repos: [lookaside],
    });
    expect(ok.stateReason).toBe("Compose is generated successfully");
    const plain = await upload([app.path, lib.path]);
    const bad = await h.run({
      source: { type: "upload", source: plain.id, sigkeys: [key.sigkey] },
      lookaside_repos: [lookaside],
    });
    expect(bad.state).toBe(4);
    expect(bad.stateReason).toMatch(/upc-app/);
    expect(bad.stateReason).toMatch(new RegExp(key.sigkey, "i"));
  });

  test("an upload deleted after the request: the compose fails with a reason a person can act on", async () => {
    const up = await upload([lib.path]);
    const c = await h.create({ source: { type: "upload", source: up.id } });
    const del = await h.request(`/api/1/uploads/${up.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    const w = h.newWorker("after-delete");
    while ((await w.fill()) > 0) await w.idle();
    const row = await h.row(c.id);
    expect(row.state).toBe(4);
    expect(row.stateReason).toContain(
      `upload ${up.id} is gone (expired or deleted) from ${join(h.config.ODCS_UPLOAD_DIR)}; upload the RPMs again and request a new compose`,
    );
  });
});
