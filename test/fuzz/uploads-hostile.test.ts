/**
 * Hostile uploads against the real app and the real upload store: crafted
 * RPM headers whose name or arch would walk out of the upload dir, broken
 * and odd multipart bodies (wrong or missing boundary, nested parts, huge
 * part headers, file names with `../`, NUL or 5 000 characters), odd tar
 * streams (truncated, symlinks, hardlinks, directories, absolute and `../`
 * member names), and a fast-check fuzzer over all of it. Every answer is
 * a 201 or an ODCS 4xx; a 4xx leaves no row and no file; a 201 stores each
 * file under its NEVRA inside the upload's dir, nowhere else.
 *
 * FUZZ_SEED / FUZZ_RUNS as in test/api/fuzz.test.ts.
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fc, test } from "@fast-check/vitest";
import tar from "tar-stream";
import { beforeAll, describe, expect } from "vitest";
import { buildRpm, type RpmSpec } from "../../bench/rpm-writer.ts";
import { uploads } from "../../src/db/schema.ts";
import { testApp } from "../helpers/test-app.ts";

const SEED = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? 18);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

function rpm(over: Partial<RpmSpec> = {}): Buffer {
  return buildRpm({
    name: "fz",
    version: "1.0",
    release: "1",
    arch: "noarch",
    summary: "fuzz",
    description: "fuzz",
    license: "MIT",
    buildtime: 1_700_000_000,
    provides: [{ name: over.name ?? "fz", op: "=", evr: "1.0-1" }],
    requires: [],
    files: [{ path: "/usr/share/fz/a", content: "a" }],
    ...over,
  });
}

type T = Awaited<ReturnType<typeof testApp>>;
let t: T;

beforeAll(async () => {
  t = await testApp({ config: { ODCS_UPLOAD_MAX_FILES: 4, ODCS_UPLOAD_MAX_MB: 1 } });
});

/** Every file below the upload root, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** POST the body; check the answer's shape and that a 4xx left nothing. */
async function upload(
  body: BodyInit,
  contentType: string | undefined,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const root = t.deps.config.ODCS_UPLOAD_DIR;
  const rowsBefore = (await t.db.select().from(uploads)).length;
  const filesBefore = filesUnder(root);
  const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
  const res = await t.request("/api/1/uploads/", { method: "POST", body, headers });
  const text = await res.text();
  const what = `${contentType} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  const json = JSON.parse(text) as Record<string, unknown>;
  if (res.status >= 400) {
    expect(json, what).toEqual({
      status: res.status,
      error: expect.any(String),
      message: expect.any(String),
    });
    expect((await t.db.select().from(uploads)).length, what).toBe(rowsBefore);
    expect(filesUnder(root), what).toEqual(filesBefore);
  } else {
    expect(res.status, what).toBe(201);
    const id = json.id as string;
    const stored = filesUnder(root).filter((f) => !filesBefore.includes(f));
    // Only inside the new upload's own dir: its RPMs by NEVRA and the manifest.
    for (const f of stored) expect(f.startsWith(`${id}/`), `${what}: wrote ${f}`).toBe(true);
  }
  return { status: res.status, json };
}

function form(parts: { name?: string; filename?: string; bytes: Uint8Array }[]): FormData {
  const fd = new FormData();
  for (const p of parts)
    fd.append(p.name ?? "file", new Blob([new Uint8Array(p.bytes)]), p.filename ?? "x.rpm");
  return fd;
}

type TarEntry = Partial<tar.Header> & { name: string; body?: Buffer };
async function tarOf(entries: TarEntry[], cutAt?: number): Promise<Uint8Array<ArrayBuffer>> {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry(h, body ?? "");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  return new Uint8Array(
    cutAt === undefined ? all : all.subarray(0, cutAt),
  ) as Uint8Array<ArrayBuffer>;
}

describe("crafted RPM headers never name a path outside the upload", () => {
  const outside = join(tmpdir(), `odcs-fuzz-escape-${process.pid}`);
  for (const [what, over] of [
    ["name with ../", { name: `../../../../../../..${outside}` }],
    ["name with a slash", { name: "a/b" }],
    ["arch with ../", { arch: "../../../x" }],
    ["version with a slash", { version: "1/../../2" }],
    ["release with NUL-free control chars", { release: "1\n2" }],
    ["name starting with a dot", { name: ".hidden" }],
  ] as const) {
    test(`${what}: 400 naming the field, nothing written`, async () => {
      const res = await upload(form([{ bytes: rpm(over), filename: "evil.rpm" }]), undefined);
      expect(res.status).toBe(400);
      expect(String(res.json.message)).toMatch(
        /^evil\.rpm is not an RPM: its (name|version|release|arch) .* has characters an RPM file name cannot have$/,
      );
      expect(
        readdirSync(tmpdir()).filter((f) => f.startsWith(`odcs-fuzz-escape-${process.pid}`)),
      ).toEqual([]);
    });
  }
});

describe("odd multipart bodies", () => {
  const good = () => rpm();
  const raw = (boundary: string, text: string) =>
    new TextEncoder().encode(text.replace(/B/g, boundary));

  test("a part whose file name has ../ or 5 000 characters is stored by its NEVRA; NUL is a 400", async () => {
    const nul = await upload(form([{ bytes: good(), filename: "a\u0000b.rpm" }]), undefined);
    expect(nul).toEqual({
      status: 400,
      json: {
        status: 400,
        error: "Bad Request",
        message: "The multipart body cannot be read: Malformed part header",
      },
    });
    for (const filename of [
      "../../../etc/x.rpm",
      `${"n".repeat(5000)}.rpm`,
      "/abs.rpm",
      "..",
      "%2e%2e%2fx",
    ]) {
      const res = await upload(form([{ bytes: good(), filename }]), undefined);
      expect(res.status, `${filename.slice(0, 40)}: ${JSON.stringify(res.json)}`).toBe(201);
      const files = res.json.files as { filename: string }[];
      expect(files.map((f) => f.filename)).toEqual(["fz-1.0-1.noarch.rpm"]);
    }
  });

  test.each([
    ["no boundary", "multipart/form-data"],
    ["empty boundary", "multipart/form-data; boundary="],
    ["a boundary the body does not use", "multipart/form-data; boundary=nothere"],
    ["a 2 000-character boundary", `multipart/form-data; boundary=${"b".repeat(2000)}`],
  ])("%s: 400", async (_, type) => {
    const res = await upload(
      raw(
        "xyz",
        '--B\r\nContent-Disposition: form-data; name="file"; filename="a.rpm"\r\n\r\nabc\r\n--B--\r\n',
      ),
      type,
    );
    expect(res.status).toBe(400);
  });

  test("nested multipart, a field part, huge part headers, an unterminated body: 400", async () => {
    const nested =
      '--B\r\nContent-Type: multipart/mixed; boundary=inner\r\nContent-Disposition: form-data; name="file"; filename="n.rpm"\r\n\r\n' +
      '--inner\r\nContent-Disposition: attachment; filename="x.rpm"\r\n\r\nxx\r\n--inner--\r\n\r\n--B--\r\n';
    const field = '--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--B--\r\n';
    const hugeHeader = `--B\r\nContent-Disposition: form-data; name="file"; filename="h.rpm"\r\nX-Pad: ${"p".repeat(200_000)}\r\n\r\nabc\r\n--B--\r\n`;
    const unterminated =
      '--B\r\nContent-Disposition: form-data; name="file"; filename="u.rpm"\r\n\r\n';
    for (const body of [nested, field, hugeHeader, unterminated, "", "--B--\r\n"]) {
      const res = await upload(raw("bnd", body), "multipart/form-data; boundary=bnd");
      expect(res.status, body.slice(0, 100)).toBe(400);
    }
  });

  test("a truncated RPM, a non-RPM, five files over a limit of four: 4xx, nothing kept", async () => {
    const cut = good().subarray(0, 200);
    expect((await upload(form([{ bytes: cut }]), undefined)).status).toBe(400);
    expect(
      (await upload(form([{ bytes: new TextEncoder().encode("#!/bin/sh\n") }]), undefined)).status,
    ).toBe(400);
    const five = ["a", "b", "c", "d", "e"].map((n) => ({
      bytes: rpm({ name: n }),
      filename: `${n}.rpm`,
    }));
    expect((await upload(form(five), undefined)).status).toBe(413);
  });
});

describe("odd tar streams", () => {
  test("truncated, symlink, hardlink, absolute and ../ names, directories", async () => {
    const body = rpm();
    const whole = await tarOf([{ name: "a.rpm", body }]);
    for (const cut of [100, 512, 700, 512 + body.length - 10]) {
      const res = await upload(whole.subarray(0, cut), "application/x-tar");
      expect(res.status, `cut at ${cut}`).toBe(400);
    }
    for (const entry of [
      { name: "link.rpm", type: "symlink", linkname: "/etc/passwd" },
      { name: "hard.rpm", type: "link", linkname: "../../etc/passwd" },
      { name: "dev", type: "character-device" },
      { name: "fifo", type: "fifo" },
    ] as TarEntry[]) {
      const res = await upload(await tarOf([entry]), "application/x-tar");
      expect(res.status, entry.type).toBe(400);
      expect(String(res.json.message)).toContain("regular files");
    }
    for (const name of ["/abs/x.rpm", "../../../../x.rpm", "d/../../x.rpm", "a\\b.rpm"]) {
      const res = await upload(
        await tarOf([
          { name: "dir/", type: "directory" },
          { name, body },
        ]),
        "application/x-tar",
      );
      expect(res.status, name).toBe(201);
      expect((res.json.files as { sent_as: string; filename: string }[])[0]).toMatchObject({
        sent_as: name,
        filename: "fz-1.0-1.noarch.rpm",
      });
    }
    const garbage = new Uint8Array(2048).fill(0x41);
    expect((await upload(garbage, "application/x-tar")).status).toBe(400);
  });
});

/** A multipart body from parts of random sorts, as text and bytes mixed. */
const partArb = fc.record({
  sort: fc.constantFrom("rpm", "cut-rpm", "text", "bytes", "field", "nested", "no-disposition"),
  filename: fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("../x.rpm", "a\u0000.rpm", "", "\u202e.rpm", "%2e%2e/x.rpm"),
  ),
  extraHeader: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  cut: fc.nat(),
  bytes: fc.uint8Array({ maxLength: 300 }),
});

type PartSpec = {
  sort: string;
  filename: string;
  extraHeader: string | undefined;
  cut: number;
  bytes: Uint8Array;
};

async function fuzzBody(
  parts: PartSpec[],
  boundary: string,
  ending: "close" | "none" | "garbage",
): Promise<Uint8Array<ArrayBuffer>> {
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  for (const p of parts) {
    const fn = p.filename.replace(/["\r\n]/g, "_");
    let head = `--${boundary}\r\n`;
    if (p.sort !== "no-disposition")
      head +=
        p.sort === "field"
          ? 'Content-Disposition: form-data; name="f"\r\n'
          : `Content-Disposition: form-data; name="file"; filename="${fn}"\r\n`;
    if (p.sort === "nested") head += "Content-Type: multipart/mixed; boundary=zz\r\n";
    if (p.extraHeader !== undefined)
      head += `X-Extra: ${p.extraHeader.replace(/[\r\n]/g, " ")}\r\n`;
    out.push(enc.encode(`${head}\r\n`));
    const r = rpm({ name: `p${out.length}` });
    if (p.sort === "rpm") out.push(r);
    else if (p.sort === "cut-rpm") out.push(r.subarray(0, p.cut % r.length));
    else if (p.sort === "text" || p.sort === "field") out.push(enc.encode("some text"));
    else if (p.sort === "nested") out.push(enc.encode("--zz\r\n\r\nx\r\n--zz--"));
    else out.push(p.bytes);
    out.push(enc.encode("\r\n"));
  }
  if (ending === "close") out.push(enc.encode(`--${boundary}--\r\n`));
  if (ending === "garbage") out.push(enc.encode(`--${boundary}-x`));
  return new Uint8Array(Buffer.concat(out)) as Uint8Array<ArrayBuffer>;
}

describe("fuzzed upload bodies: 201 or an ODCS 4xx, nothing written on a 4xx", () => {
  test.prop(
    [
      fc.array(partArb, { maxLength: 5 }),
      fc.oneof(fc.constant("bnd42"), fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/)),
      fc.constantFrom<"close" | "none" | "garbage">("close", "close", "none", "garbage"),
      fc.constantFrom(
        "multipart/form-data; boundary=",
        "multipart/form-data;boundary=",
        "multipart/mixed; boundary=",
        "application/x-tar; boundary=",
        "text/plain; b=",
      ),
    ],
    { seed: SEED, numRuns: RUNS },
  )("multipart", async (parts, boundary, ending, typePrefix) => {
    const body = await fuzzBody(parts, boundary, ending);
    await upload(body, `${typePrefix}${boundary}`);
  });
});
