/**
 * Hostile repositories for tests: a copy of a real fixture repository whose
 * metadata is then edited (locations, xml:base, bombs), with repomd.xml's
 * entry rewritten to match, so the reader's checksum check passes and only
 * the hostile content is left to catch.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { tempDir } from "./db.ts";
import { FIXTURES_DIR } from "./fixtures.ts";

const LIBDNF_REPO = `${FIXTURES_DIR}/repos/libdnf-dnf-ci-fedora`;

export type Packing = "gz" | "zst" | "xz" | "none";

/** A writable copy of `src` (a whole yum repository) in a fresh temp dir. */
export async function copyOfRepo(src = LIBDNF_REPO, dir = tempDir("odcs-hostile-")) {
  await cp(src, dir, { recursive: true });
  execFileSync("chmod", ["-R", "u+w", dir]); // the fixtures are read-only
  return dir;
}

export function pack(data: Uint8Array, packing: Packing): Uint8Array {
  switch (packing) {
    case "gz":
      return gzipSync(data);
    case "zst":
      return execFileSync("zstd", ["-q", "-c"], { input: data, maxBuffer: 1 << 30 });
    case "xz":
      return execFileSync("xz", ["-c", "-1", "-T1"], { input: data, maxBuffer: 1 << 30 });
    case "none":
      return data;
  }
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/**
 * Put `stored` (bytes as they lie on disk) at `href` and make repomd.xml's
 * `type` entry name it, with its checksum and size (no open-checksum).
 */
export async function replaceMetadata(
  dir: string,
  type: "primary" | "filelists" | "other",
  stored: Uint8Array,
  href = `repodata/${type}.xml.gz`,
  fileName = href,
): Promise<void> {
  await writeFile(join(dir, fileName), stored);
  const repomdPath = join(dir, "repodata/repomd.xml");
  const repomd = await readFile(repomdPath, "utf8");
  const entry = new RegExp(`<data type="${type}">[\\s\\S]*?</data>`);
  if (!entry.test(repomd)) throw new Error(`repomd.xml has no ${type} entry`);
  const block =
    `<data type="${type}">\n    <checksum type="sha256">${sha256(stored)}</checksum>\n` +
    `    <location href="${href}"/>\n    <size>${stored.length}</size>\n  </data>`;
  await writeFile(repomdPath, repomd.replace(entry, block));
}

/** Edit the (gzip) primary.xml of the repository at `dir` as text. */
export async function editPrimary(dir: string, edit: (xml: string) => string): Promise<void> {
  const xml = gunzipSync(await readFile(join(dir, "repodata/primary.xml.gz"))).toString("utf8");
  const changed = edit(xml);
  if (changed === xml) throw new Error("the edit changed nothing");
  await replaceMetadata(dir, "primary", gzipSync(changed));
}

/** Set the `location` element of package `name` (its first one) in primary.xml. */
export function relocate(name: string, location: { href: string; base?: string }) {
  return (xml: string) =>
    xml.replace(
      new RegExp(`(<name>${name}</name>[\\s\\S]*?)<location [^>]*/>`),
      (_, before: string) =>
        `${before}<location${location.base === undefined ? "" : ` xml:base="${location.base}"`} href="${location.href}"/>`,
    );
}

const PRIMARY_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" ' +
  'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">\n';

/**
 * A small file that decompresses to `totalBytes` (or more) of metadata: the
 * XML prologue, then spaces. gz is concatenated gzip members (each 16 MiB
 * of spaces), so a bomb of gigabytes costs no time to make; zst and xz are
 * made by the real tools.
 */
export function bomb(packing: Exclude<Packing, "none">, totalBytes: number): Uint8Array {
  const head = new TextEncoder().encode(PRIMARY_HEAD);
  if (packing !== "gz") return pack(Buffer.concat([head, Buffer.alloc(totalBytes, 0x20)]), packing);
  const member = gzipSync(Buffer.alloc(16 << 20, 0x20), { level: 9 });
  const count = Math.ceil(totalBytes / (16 << 20));
  return Buffer.concat([gzipSync(head), ...Array.from({ length: count }, () => member)]);
}

/**
 * As `bomb`, but every byte is well-formed packages (one small package
 * repeated): a reader without a size limit keeps a record per package
 * until memory runs out.
 */
export function packageBomb(totalBytes: number): Uint8Array {
  const pkg =
    '<package type="rpm"><name>p</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/>' +
    `<checksum type="sha256" pkgid="YES">${"a".repeat(64)}</checksum><summary>s</summary>` +
    '<location href="p-1-1.noarch.rpm"/><format><rpm:license>MIT</rpm:license></format></package>\n';
  const block = Buffer.from(pkg.repeat(Math.floor((4 << 20) / pkg.length)));
  const member = gzipSync(block, { level: 9 });
  const count = Math.ceil(totalBytes / block.length);
  return Buffer.concat([gzipSync(PRIMARY_HEAD), ...Array.from({ length: count }, () => member)]);
}
