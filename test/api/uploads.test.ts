/**
 * POST/GET/DELETE /api/1/uploads/ on the real app with the real upload
 * store: real RPMs (multipart and tar), a non-RPM, limits and quota,
 * permissions, expiry by the sweep, and the request-time checks of an
 * `upload` compose.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { createReadOnlyApp, writeRefusal } from "../../src/api/app-core.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { uploads } from "../../src/db/schema.ts";
import type { Authenticator, Identity } from "../../src/domain/identity.ts";
import { expireUploads } from "../../src/sweep/expire-uploads.ts";
import { type BuiltRpm, buildRpms } from "../helpers/rpmbuild.ts";
import { testApp } from "../helpers/test-app.ts";
import {
  fromFiles,
  multipart,
  type NamedBytes,
  sha256,
  tarball,
  type UploadJson,
} from "../helpers/uploads.ts";

let hello: BuiltRpm;
let lib: BuiltRpm;
let big: BuiltRpm;
let rpms: NamedBytes[];
let h: NamedBytes;
let l: NamedBytes;
let b: NamedBytes;

/** About 2 MiB of text that compresses poorly, so the RPM is over 1 MiB. */
function noise(bytes: number): string {
  const parts: string[] = [];
  let h = Buffer.from("seed");
  for (let n = 0; n < bytes; n += 44) {
    h = createHash("sha256").update(h).digest();
    parts.push(h.toString("base64"));
  }
  return parts.join("\n");
}

beforeAll(async () => {
  [hello, lib, big] = (await buildRpms([
    { name: "up-hello", requires: ["up-lib"], files: ["/usr/bin/up-hello"] },
    { name: "up-lib", version: "2.1", files: ["/usr/share/up-lib/data"] },
    { name: "up-big", files: [{ path: "/usr/share/up-big/blob", content: noise(2 * 1024 ** 2) }] },
  ])) as [BuiltRpm, BuiltRpm, BuiltRpm];
  [h, l, b] = (await fromFiles([hello.path, lib.path, big.path])) as [
    NamedBytes,
    NamedBytes,
    NamedBytes,
  ];
  rpms = [h, l];
}, 120_000);

const post = (app: Awaited<ReturnType<typeof testApp>>, body: BodyInit, headers = {}, qs = "") =>
  app.request(`/api/1/uploads/${qs}`, { method: "POST", body, headers });

describe("POST /api/1/uploads/", () => {
  test("multipart: 201 with each file's NEVRA, size, sha256 and sigkey; GET shows it", async () => {
    const t = await testApp();
    const res = await post(t, multipart(rpms));
    const body = (await res.json()) as UploadJson;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({
      owner: "unknown",
      state: "ready",
      size: h.bytes.length + l.bytes.length,
      time_to_expire: "2026-11-22T08:00:00Z",
      files: [
        {
          filename: "up-hello-1.0-1.noarch.rpm",
          sent_as: "up-hello-1.0-1.noarch.rpm",
          nevra: "up-hello-1.0-1.noarch",
          size: h.bytes.length,
          sha256: sha256(h.bytes),
          sigkey: null,
        },
        { filename: "up-lib-2.1-1.noarch.rpm", nevra: "up-lib-2.1-1.noarch", sigkey: null },
      ],
    });
    const dir = join(t.deps.config.ODCS_UPLOAD_DIR, body.id);
    expect(readdirSync(dir).sort()).toEqual([
      "manifest.json",
      "up-hello-1.0-1.noarch.rpm",
      "up-lib-2.1-1.noarch.rpm",
    ]);
    const got = await t.request(`/api/1/uploads/${body.id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(body);
  });

  test("a tar stream: 201, directory members skipped", async () => {
    const t = await testApp();
    const res = await post(t, await tarball(rpms), { "Content-Type": "application/x-tar" });
    const body = (await res.json()) as UploadJson;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.files.map((f) => [f.sent_as, f.nevra, f.sha256])).toEqual([
      ["rpms/up-hello-1.0-1.noarch.rpm", "up-hello-1.0-1.noarch", sha256(h.bytes)],
      ["rpms/up-lib-2.1-1.noarch.rpm", "up-lib-2.1-1.noarch", sha256(l.bytes)],
    ]);
  });

  test.each([
    ["multipart", false],
    ["tar", true],
  ])("%s with a non-RPM: 400 naming it, nothing kept", async (_kind, asTar) => {
    const t = await testApp();
    const files = [...rpms, { name: "notes.txt", bytes: Buffer.from("not an rpm at all\n") }];
    const res = asTar
      ? await post(t, await tarball(files), { "Content-Type": "application/x-tar" })
      : await post(t, multipart(files));
    const name = asTar ? "rpms/notes.txt" : "notes.txt";
    expect(await res.json()).toEqual({
      status: 400,
      error: "Bad Request",
      message: `${name} is not an RPM: it does not start with the RPM lead magic (ed ab ee db)`,
    });
    expect(await t.db.select().from(uploads)).toEqual([]);
    expect(readdirSync(t.deps.config.ODCS_UPLOAD_DIR)).toEqual([]);
  });

  test("an RPM cut off inside its headers is not an RPM", async () => {
    const t = await testApp();
    const cut = { name: "cut.rpm", bytes: h.bytes.subarray(0, 400) };
    const res = await post(t, multipart([cut]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^cut\.rpm is not an RPM: its headers are cut off after 400 bytes$/,
    );
  });

  test("a body that is neither multipart nor tar: 400", async () => {
    const t = await testApp();
    const res = await post(t, "{}", { "Content-Type": "application/json" });
    expect(await res.json()).toEqual({
      status: 400,
      error: "Bad Request",
      message:
        "Send the RPMs as multipart/form-data file parts or as one application/x-tar stream, not application/json",
    });
  });

  test("the same package twice: 400 naming both", async () => {
    const t = await testApp();
    const res = await post(t, multipart([h, { ...h, name: "again.rpm" }]));
    expect(((await res.json()) as { message: string }).message).toBe(
      "again.rpm and up-hello-1.0-1.noarch.rpm are the same package, up-hello-1.0-1.noarch",
    );
  });

  test("seconds_to_live sets the expiry, capped as for composes", async () => {
    const t = await testApp({ config: { ODCS_MAX_SECONDS_TO_LIVE: 7200 } });
    const a = (await (
      await post(t, multipart(rpms), {}, "?seconds_to_live=60")
    ).json()) as UploadJson;
    expect(a.time_to_expire).toBe("2026-11-21T08:01:00Z");
    const b = (await (
      await post(t, multipart(rpms), {}, "?seconds_to_live=999999")
    ).json()) as UploadJson;
    expect(b.time_to_expire).toBe("2026-11-21T10:00:00Z");
  });
});

describe("limits", () => {
  test("more files than ODCS_UPLOAD_MAX_FILES: 413, nothing kept", async () => {
    const t = await testApp({ config: { ODCS_UPLOAD_MAX_FILES: 1 } });
    const res = await post(t, multipart(rpms));
    expect(await res.json()).toEqual({
      status: 413,
      error: "Payload Too Large",
      message: "Upload refused: it has more than 1 files (ODCS_UPLOAD_MAX_FILES)",
    });
    expect(readdirSync(t.deps.config.ODCS_UPLOAD_DIR)).toEqual([]);
    expect(await t.db.select().from(uploads)).toEqual([]);
  });

  test("larger than ODCS_UPLOAD_MAX_MB: 413, nothing kept", async () => {
    const t = await testApp({ config: { ODCS_UPLOAD_MAX_MB: 1 } });
    expect(b.bytes.length).toBeGreaterThan(1024 ** 2);
    const res = await post(t, multipart([b]));
    expect(await res.json()).toEqual({
      status: 413,
      error: "Payload Too Large",
      message:
        "Upload refused: it is larger than the limit of 1 MiB per upload (ODCS_UPLOAD_MAX_MB)",
    });
    expect(readdirSync(t.deps.config.ODCS_UPLOAD_DIR)).toEqual([]);
  });

  test("the owner's quota counts unexpired uploads; deleting or expiry frees it", async () => {
    const t = await testApp({ config: { ODCS_UPLOAD_QUOTA_MB: 2 } });
    const first = await post(t, multipart([b]), {}, "?seconds_to_live=60");
    expect(first.status).toBe(201);
    const second = await post(t, multipart([b]));
    expect(second.status).toBe(413);
    expect(((await second.json()) as { message: string }).message).toMatch(
      /^Upload refused: it exceeds your upload quota of 2 MiB \(ODCS_UPLOAD_QUOTA_MB\); 0 MiB of it is left until your other uploads expire or are deleted$/,
    );
    // Small uploads still fit in what is left.
    expect((await post(t, multipart(rpms))).status).toBe(201);
    t.clock.advance(61_000);
    const third = await post(t, multipart([b]));
    expect(third.status).toBe(201);
  });
});

describe("expiry and DELETE", () => {
  test("the sweep removes expired uploads (row marked, files deleted); a compose of it is then a 400", async () => {
    const t = await testApp();
    const up = (await (
      await post(t, multipart(rpms), {}, "?seconds_to_live=60")
    ).json()) as UploadJson;
    const dir = join(t.deps.config.ODCS_UPLOAD_DIR, up.id);
    const sweep = {
      db: t.db,
      now: () => t.clock.now(),
      log: silentLogger,
      targetDir: "/nonexistent",
      uploadDir: t.deps.config.ODCS_UPLOAD_DIR,
    };
    expect(await expireUploads(sweep)).toEqual([]);
    t.clock.advance(59_000);
    expect(await expireUploads(sweep)).toEqual([]);
    const stillFine = await t.postJson("/api/1/composes/", {
      source: { type: "upload", source: up.id },
    });
    expect(stillFine.status).toBe(200);
    t.clock.advance(1_000);
    const late = await t.postJson("/api/1/composes/", {
      source: { type: "upload", source: up.id },
    });
    expect(await late.json()).toEqual({
      status: 400,
      error: "Bad Request",
      message: `Upload ${up.id} expired at 2026-11-21T08:01:00Z; upload the RPMs again`,
    });
    expect(await expireUploads(sweep)).toEqual([up.id]);
    expect(existsSync(dir)).toBe(false);
    expect(await (await t.request(`/api/1/uploads/${up.id}`)).json()).toMatchObject({
      state: "removed",
      time_removed: "2026-11-21T08:01:00Z",
      removed_by: null,
    });
    const gone = await t.postJson("/api/1/composes/", {
      source: { type: "upload", source: up.id },
    });
    expect(((await gone.json()) as { message: string }).message).toBe(
      `Upload ${up.id} was removed at 2026-11-21T08:01:00Z; upload the RPMs again`,
    );
    expect(await expireUploads(sweep)).toEqual([]);
  });

  test("DELETE removes files and marks the row; unknown ids are 404, bad source ids 400", async () => {
    const t = await testApp();
    const up = (await (await post(t, multipart(rpms))).json()) as UploadJson;
    const del = await t.request(`/api/1/uploads/${up.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ state: "removed", removed_by: "anonymous" });
    expect(existsSync(join(t.deps.config.ODCS_UPLOAD_DIR, up.id))).toBe(false);
    const again = await t.request(`/api/1/uploads/${up.id}`, { method: "DELETE" });
    expect(again.status).toBe(400);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect(await (await t.request(`/api/1/uploads/${unknown}`)).json()).toEqual({
      status: 404,
      error: "Not Found",
      message: `No upload with id ${unknown}`,
    });
    const noSuch = await t.postJson("/api/1/composes/", {
      source: { type: "upload", source: unknown },
    });
    expect(((await noSuch.json()) as { message: string }).message).toBe(
      `No upload with id ${unknown}`,
    );
    const bad = await t.postJson("/api/1/composes/", {
      source: { type: "upload", source: "../../etc" },
    });
    expect(await bad.json()).toEqual({
      status: 400,
      error: "Bad Request",
      message:
        '"../../etc" is not an upload id: POST the RPMs to /api/1/uploads/ and use the "id" it answers',
    });
  });
});

describe("the read-only (edge) app", () => {
  test("refuses upload requests with a 405 naming the origin", async () => {
    const t = await testApp({ config: { ODCS_ORIGIN_URL: "https://odcs.example.com" } });
    const edge = createReadOnlyApp(t.deps);
    for (const [method, path] of [
      ["POST", "/api/1/uploads/"],
      ["DELETE", "/api/1/uploads/3b0d6a0e-6f0e-4c8b-9a57-2f1c8f6b5a10"],
    ] as const) {
      const res = await edge.request(path, {
        method,
        body: method === "POST" ? multipart(rpms) : null,
      });
      expect(res.status).toBe(405);
      expect(((await res.json()) as { message: string }).message).toBe(
        writeRefusal("https://odcs.example.com"),
      );
    }
    expect(existsSync(t.deps.config.ODCS_UPLOAD_DIR)).toBe(false);
  });
});

describe("permissions", () => {
  const PREFIX = "https://pagure.io/odcs/";
  const people: Record<string, Identity> = {
    alice: {
      username: "alice",
      groups: [],
      scopes: [`${PREFIX}new-upload`, `${PREFIX}new-compose`, `${PREFIX}delete-upload`],
    },
    bob: {
      username: "bob",
      groups: [],
      scopes: [`${PREFIX}new-upload`, `${PREFIX}new-compose`, `${PREFIX}delete-upload`],
    },
    carol: { username: "carol", groups: [], scopes: [`${PREFIX}new-upload`] },
    noscope: { username: "noscope", groups: [], scopes: [`${PREFIX}new-compose`] },
    root: {
      username: "root",
      groups: [],
      scopes: [`${PREFIX}new-upload`, `${PREFIX}delete-upload`],
    },
  };
  const auth: Authenticator = {
    backend: "openidc",
    authenticate: async (h) => {
      const who = people[(h ?? "").replace(/^Bearer /, "")];
      if (!who) throw new Error("unknown test user");
      return who;
    },
  };
  const app = () =>
    testApp({
      deps: { auth },
      config: {
        ODCS_ALLOWED_CLIENTS: {
          users: {
            alice: { source_types: ["upload", "repo"] },
            bob: { source_types: ["upload"] },
            carol: { source_types: ["repo"] },
            noscope: { source_types: ["upload"] },
          },
        },
        ODCS_ADMINS: { users: ["root"] },
      },
    });
  const as = (who: string) => ({ Authorization: `Bearer ${who}` });

  test("scope new-upload and source_types upload are needed", async () => {
    const t = await app();
    expect(await (await post(t, multipart(rpms), as("noscope"))).json()).toEqual({
      status: 403,
      error: "Forbidden",
      message: "Request does not have required scope new-upload",
    });
    expect(await (await post(t, multipart(rpms), as("carol"))).json()).toEqual({
      status: 403,
      error: "Forbidden",
      message: "User carol not allowed to operate with compose with source_types=upload.",
    });
    const ok = await post(t, multipart(rpms), as("alice"));
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as UploadJson).owner).toBe("alice");
  });

  test("only the owner or an admin composes from an upload or deletes it", async () => {
    const t = await app();
    const up = (await (await post(t, multipart(rpms), as("alice"))).json()) as UploadJson;
    const compose = (who: string) =>
      t.postJson("/api/1/composes/", { source: { type: "upload", source: up.id } }, as(who));
    expect(await (await compose("bob")).json()).toEqual({
      status: 403,
      error: "Forbidden",
      message: `Upload ${up.id} is owned by alice; only its owner or an admin may compose from it`,
    });
    expect((await compose("alice")).status).toBe(200);
    const bobDelete = await t.request(`/api/1/uploads/${up.id}`, {
      method: "DELETE",
      headers: as("bob"),
    });
    expect(await bobDelete.json()).toEqual({
      status: 403,
      error: "Forbidden",
      message: `Upload ${up.id} can not be removed, it's owned by someone else.`,
    });
    const rootDelete = await t.request(`/api/1/uploads/${up.id}`, {
      method: "DELETE",
      headers: as("root"),
    });
    expect(await rootDelete.json()).toMatchObject({ state: "removed", removed_by: "root" });
  });

  test("quotas are per owner", async () => {
    const t = await testApp({
      deps: { auth },
      config: {
        ODCS_UPLOAD_QUOTA_MB: 2,
        ODCS_ALLOWED_CLIENTS: {
          users: { alice: { source_types: ["upload"] }, bob: { source_types: ["upload"] } },
        },
      },
    });
    expect((await post(t, multipart([b]), as("alice"))).status).toBe(201);
    expect((await post(t, multipart([b]), as("alice"))).status).toBe(413);
    expect((await post(t, multipart([b]), as("bob"))).status).toBe(201);
  });
});
