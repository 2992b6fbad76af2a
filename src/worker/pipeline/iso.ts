/**
 * The `iso` result (ODCS results bit 2): per tree arch, a non-installable
 * ISO 9660 image (Rock Ridge + Joliet) of the arch's yum repository — its
 * `Packages/` and `repodata/` at the image's root, so the mounted image is
 * a repository dnf can use — written with xorriso where Pungi puts media
 * (`compose/<Variant>/<arch>/iso/`, named as Pungi names images:
 * `{compose_id}-{variant}-{arch}-dvd1.iso`), checksummed as Pungi's
 * image_checksum phase does by default (`<image>.SHA256SUM` and the dir's
 * `SHA256SUM`), and listed in productmd `images.json`. Runs in the staging
 * tree before publishing: a failure fails the compose and nothing of it is
 * published. An installable `boot.iso` needs lorax and is refused at
 * request time.
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ComposeRow } from "../../db/schema.ts";
import { ComposeError } from "../../sources/errors.ts";
import { archRepoRel, composeName, VARIANT } from "../paths.ts";
import { CappedText } from "../tools/capped-text.ts";
import type { GenerateContext } from "./generate.ts";
import { productmdText } from "./metadata.ts";

/** ISO 9660 volume ids are at most 32 characters. */
const MAX_VOLID = 32;

export interface IsoImage {
  arch: string;
  bootable: false;
  checksums: { sha256: string };
  disc_count: 1;
  disc_number: 1;
  format: "iso";
  implant_md5: null;
  mtime: number;
  /** Relative to `compose/`. */
  path: string;
  size: number;
  subvariant: string;
  type: "dvd";
  volume_id: string;
}

/** `compose/<Variant>/<arch>/iso`, relative to the compose top dir. */
export const isoDirRel = (arch: string) => join("compose", VARIANT, arch, "iso");

/** Pungi's default image name (`compose.get_image_name`). */
export const isoFileName = (pungiId: string, arch: string) =>
  `${pungiId}-${VARIANT}-${arch}-dvd1.iso`;

/**
 * Pungi's default volume ids, the first that fits in 32 characters:
 * `{release_short}-{version} {variant}.{arch}`, then without the variant,
 * then cut.
 */
export function isoVolumeId(composeId: number, arch: string): string {
  const short = composeName(composeId).slice(0, 16);
  const candidates = [`${short}-1 ${VARIANT}.${arch}`, `${short}-1 ${arch}`];
  return candidates.find((c) => c.length <= MAX_VOLID) ?? `${short}-1 ${arch}`.slice(0, MAX_VOLID);
}

function runXorriso(args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xorriso", args, {
      stdio: ["ignore", "ignore", "pipe"],
      signal,
      // A half-written image is discarded with the staging tree.
      killSignal: "SIGKILL",
    });
    const captured = new CappedText();
    child.stderr.setEncoding("utf8").on("data", (d: string) => captured.append(d));
    let failure: Error | undefined;
    // Aborted: reject once the child is gone, not while it may still write.
    child.once("error", (err) => {
      if (child.pid === undefined) reject(err);
      else failure = err;
    });
    child.once("close", (code, sig) => {
      if (failure) reject(failure);
      else if (code === 0) resolve();
      else
        reject(
          new Error(
            `xorriso ${code === null ? `was killed by ${sig}` : `exited with ${code}`}: ${captured.toString().trim()}`,
          ),
        );
    });
  });
}

async function sha256File(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Pungi's checksum file lines (`image_checksum.dump_checksums`). */
const checksumText = (file: string, size: number, sha256: string) =>
  `# ${file}: ${size} bytes\nSHA256 (${file}) = ${sha256}\n`;

async function writeArchIso(
  compose: ComposeRow,
  dir: string,
  pungiId: string,
  arch: string,
  ctx: GenerateContext,
): Promise<IsoImage> {
  const started = performance.now();
  const osDir = join(dir, archRepoRel(arch));
  const isoDir = join(dir, isoDirRel(arch));
  const file = isoFileName(pungiId, arch);
  const dest = join(isoDir, file);
  const tmp = `${dest}.tmp`;
  const volid = isoVolumeId(compose.id, arch);
  await mkdir(isoDir, { recursive: true });
  try {
    await runXorriso(
      [
        "-as",
        "mkisofs",
        "-quiet",
        "-o",
        tmp,
        "-V",
        volid,
        "-J",
        "-joliet-long",
        "-R",
        "-graft-points",
        `Packages=${join(osDir, "Packages")}`,
        `repodata=${join(osDir, "repodata")}`,
      ],
      ctx.signal,
    );
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    if (ctx.signal.aborted) throw err;
    throw new ComposeError(
      `writing the ISO of ${arch} (${isoDirRel(arch)}/${file}) failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const [st, sha256] = await Promise.all([stat(dest), sha256File(dest, ctx.signal)]);
  await writeFile(`${dest}.SHA256SUM`, checksumText(file, st.size, sha256));
  ctx.log.line(
    `${arch}: wrote ${file} (${st.size} bytes) in ${(performance.now() - started).toFixed(0)} ms`,
  );
  return {
    arch,
    bootable: false,
    checksums: { sha256 },
    disc_count: 1,
    disc_number: 1,
    format: "iso",
    implant_md5: null,
    mtime: Math.floor(st.mtimeMs / 1000),
    path: `${VARIANT}/${arch}/iso/${file}`,
    size: st.size,
    subvariant: VARIANT,
    type: "dvd",
    volume_id: volid,
  };
}

/**
 * Write the ISO of every arch, their checksum files, `images.json`, and the
 * `isos` paths of the variant in `composeinfo.json` (written before, by
 * `writeComposeMetadata`). The repodata must be complete: it is on the image.
 */
export async function writeIsos(
  compose: ComposeRow,
  dir: string,
  pungiId: string,
  arches: readonly string[],
  ctx: GenerateContext,
): Promise<IsoImage[]> {
  const images: IsoImage[] = [];
  // One at a time: each xorriso reads every RPM of its arch; two cores are shared.
  for (const arch of [...arches].sort()) {
    const image = await writeArchIso(compose, dir, pungiId, arch, ctx);
    images.push(image);
    await writeFile(
      join(dir, isoDirRel(arch), "SHA256SUM"),
      checksumText(image.path.split("/").at(-1) ?? "", image.size, image.checksums.sha256),
    );
  }
  const metaDir = join(dir, "compose", "metadata");
  const infoPath = join(metaDir, "composeinfo.json");
  const info = JSON.parse(await readFile(infoPath, "utf8")) as {
    payload: {
      compose: { date: string; id: string; respin: number; type: string };
      variants: Record<string, { paths: Record<string, Record<string, string>> }>;
    };
  };
  const variant = info.payload.variants[VARIANT];
  if (variant)
    variant.paths.isos = Object.fromEntries(
      images.map((i) => [i.arch, `${VARIANT}/${i.arch}/iso`]),
    );
  const { date, id, respin, type } = info.payload.compose;
  const imagesJson = {
    header: { type: "productmd.images", version: "1.2" },
    payload: {
      compose: { date, id, respin, type },
      images: { [VARIANT]: Object.fromEntries(images.map((i) => [i.arch, [i]])) },
    },
  };
  await Promise.all([
    writeFile(infoPath, productmdText(info)),
    writeFile(join(metaDir, "images.json"), productmdText(imagesJson)),
  ]);
  return images;
}
