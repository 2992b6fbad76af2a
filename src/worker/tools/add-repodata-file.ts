/**
 * Adds one metadata file to an existing repository's repodata, as
 * `modifyrepo_c --mdtype=<type> --compress-type=gz <file> <repo>/repodata`
 * does: the file gz-compressed under its unique name
 * `<sha256 of the stored bytes>-<name>.gz`, and a `<data type=…>` record
 * (checksum and size of the stored file, open-checksum and open-size of
 * the content, timestamp) appended to repomd.xml, replacing a record of
 * the same type. repomd.xml is replaced by a rename.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RepomdRecord, repomdXml } from "../../rpm/repodata-write.ts";
import { gzipBuffer } from "./compress.ts";

export interface RepodataFile {
  /** repomd `<data type>`, e.g. `modules`. */
  type: string;
  /** Base name of the uncompressed file, e.g. `modules.yaml`. */
  name: string;
  content: string | Uint8Array;
  /** Unix seconds for `<timestamp>`. */
  now: number;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The `<data>` blocks of repomd.xml text, each whole, with their type. */
function dataBlocks(xml: string): { type: string; text: string }[] {
  return [...xml.matchAll(/[ \t]*<data type="([^"]*)">[\s\S]*?<\/data>\n?/g)].map((m) => ({
    type: m[1] ?? "",
    text: m[0],
  }));
}

function recordXml(r: RepomdRecord): string {
  // repomdXml renders one record the way the rest of repomd.xml is written; take just that block.
  const [block] = dataBlocks(repomdXml("", [r]));
  if (!block) throw new Error("repomdXml wrote no <data> block");
  return block.text;
}

/**
 * Writes `file` into `<repoDir>/repodata` and records it in repomd.xml.
 * Returns the record added.
 */
export async function addRepodataFile(repoDir: string, file: RepodataFile): Promise<RepomdRecord> {
  const repodata = join(repoDir, "repodata");
  const open = typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content;
  const stored = await gzipBuffer(open);
  const checksum = sha256(stored);
  const base = `${checksum}-${file.name}.gz`;
  await writeFile(join(repodata, base), stored);
  const record: RepomdRecord = {
    type: file.type,
    checksumType: "sha256",
    checksum,
    openChecksum: sha256(open),
    location: `repodata/${base}`,
    timestamp: file.now,
    size: stored.length,
    openSize: open.length,
  };
  const repomdPath = join(repodata, "repomd.xml");
  const xml = await readFile(repomdPath, "utf8");
  const old = dataBlocks(xml).find((b) => b.type === file.type);
  let next = old ? xml.replace(old.text, "") : xml;
  const end = next.lastIndexOf("</repomd>");
  if (end < 0) throw new Error(`${repomdPath} has no </repomd>`);
  next = `${next.slice(0, end)}${recordXml(record)}${next.slice(end)}`;
  const tmp = join(repodata, `.${randomBytes(6).toString("hex")}-repomd.xml.tmp`);
  try {
    await writeFile(tmp, next);
    await rename(tmp, repomdPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (old) {
    const href = /<location href="([^"]*)"/.exec(old.text)?.[1];
    if (href && href !== record.location && !href.includes(".."))
      await rm(join(repoDir, href), { force: true });
  }
  return record;
}
