/**
 * The `iso` result, made by the real worker with the real xorriso and
 * opened with xorriso (no mount): every package of the compose is on the
 * image, its repodata is the compose's, and the checksums in images.json
 * and the SHA256SUM files are the image's. A failing xorriso fails the
 * compose with nothing published; the worker's cancel signal kills it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { productmdText } from "../../src/worker/pipeline/metadata.ts";
import { tempDir } from "../helpers/db.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

const execFileP = promisify(execFile);

const REQUEST = {
  source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] },
  results: ["iso"],
  flags: ["no_reuse"],
};

interface Image {
  arch: string;
  bootable: boolean;
  checksums: Record<string, string>;
  disc_count: number;
  disc_number: number;
  format: string;
  implant_md5: string | null;
  mtime: number;
  path: string;
  size: number;
  subvariant: string;
  type: string;
  volume_id: string;
}

/** The files on an ISO, as xorriso lists them. */
async function isoFiles(iso: string): Promise<string[]> {
  const { stdout } = await execFileP("xorriso", ["-indev", iso, "-find", "/", "-type", "f"]);
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("'"))
    .map((l) => l.slice(1, -1))
    .sort();
}

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

const originalPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = originalPath;
});

/** A `xorriso` first on PATH running `script` (sh). */
async function fakeXorriso(script: string): Promise<void> {
  const dir = tempDir("fake-xorriso-");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "xorriso"), `#!/bin/sh\n${script}\n`);
  await chmod(join(dir, "xorriso"), 0o755);
  process.env.PATH = `${dir}:${originalPath}`;
}

describe("results: iso", () => {
  test("one ISO per arch under compose/Temporary/<arch>/iso with every package, listed and checksummed", async () => {
    const h = await composeHarness({ ODCS_ALLOWED_ARCHES: "x86_64,i686" });
    const row = await h.run({ ...REQUEST, arches: ["x86_64", "i686"] });
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect(row.results).toBe(3);
    expect((await h.get(row.id)).results).toEqual(["repository", "iso"]);
    const rpms = await h.rpms(row.id);
    const dir = h.dir(row.id);
    const imagesText = await readFile(join(dir, "compose/metadata/images.json"), "utf8");
    // As productmd writes it: keys sorted, 4-space indent.
    expect(imagesText).toBe(productmdText(JSON.parse(imagesText)));
    const meta = JSON.parse(imagesText) as {
      header: { type: string; version: string };
      payload: { compose: { id: string }; images: Record<string, Record<string, Image[]>> };
    };
    expect(meta.header).toEqual({ type: "productmd.images", version: "1.2" });
    expect(meta.payload.compose.id).toBe(row.pungiComposeId);
    const images = meta.payload.images.Temporary ?? {};
    expect(Object.keys(images).sort()).toEqual(["i686", "x86_64"]);
    for (const arch of ["i686", "x86_64"]) {
      const file = `${row.pungiComposeId}-Temporary-${arch}-dvd1.iso`;
      const iso = join(dir, "compose/Temporary", arch, "iso", file);
      const st = await stat(iso);
      const digest = await sha256(iso);
      expect(images[arch]).toEqual([
        {
          arch,
          bootable: false,
          checksums: { sha256: digest },
          disc_count: 1,
          disc_number: 1,
          format: "iso",
          implant_md5: null,
          mtime: Math.floor(st.mtimeMs / 1000),
          path: `Temporary/${arch}/iso/${file}`,
          size: st.size,
          subvariant: "Temporary",
          type: "dvd",
          volume_id: `odcs-${row.id}-1 Temporary.${arch}`,
        },
      ]);
      const sumLines = `# ${file}: ${st.size} bytes\nSHA256 (${file}) = ${digest}\n`;
      expect(await readFile(`${iso}.SHA256SUM`, "utf8")).toBe(sumLines);
      expect(await readFile(join(dir, "compose/Temporary", arch, "iso/SHA256SUM"), "utf8")).toBe(
        sumLines,
      );
      // Every package of the arch, and the arch's repodata, byte for byte.
      const onIso = await isoFiles(iso);
      const archRpms = rpms.filter((r) => r.treeArch === arch).map((r) => `/${r.path}`);
      expect(archRpms.length).toBeGreaterThan(0);
      const repodata = (await readdir(join(dir, "compose/Temporary", arch, "os/repodata")))
        .map((f) => `/repodata/${f}`)
        .sort();
      expect(onIso).toEqual([...archRpms, ...repodata].sort());
      const out = tempDir("iso-extract-");
      await execFileP("xorriso", [
        "-osirrox",
        "on",
        "-indev",
        iso,
        "-extract",
        "/repodata/repomd.xml",
        join(out, "repomd.xml"),
      ]);
      expect(await readFile(join(out, "repomd.xml"))).toEqual(
        await readFile(join(dir, "compose/Temporary", arch, "os/repodata/repomd.xml")),
      );
      const pkg = archRpms[0] ?? "";
      await execFileP("xorriso", [
        "-osirrox",
        "on",
        "-indev",
        iso,
        "-extract",
        pkg,
        join(out, "p.rpm"),
      ]);
      expect(await sha256(join(out, "p.rpm"))).toBe(
        await sha256(join(dir, "compose/Temporary", arch, "os", pkg)),
      );
    }
    const info = JSON.parse(
      await readFile(join(dir, "compose/metadata/composeinfo.json"), "utf8"),
    ) as { payload: { variants: { Temporary: { paths: Record<string, unknown> } } } };
    expect(info.payload.variants.Temporary.paths.isos).toEqual({
      i686: "Temporary/i686/iso",
      x86_64: "Temporary/x86_64/iso",
    });
    await h.stopAll();
  });

  test("without iso: no iso dir, no images.json", async () => {
    const h = await composeHarness();
    const row = await h.run({ ...REQUEST, results: [] });
    expect(row.stateReason).toBe("Compose is generated successfully");
    await expect(stat(join(h.dir(row.id), "compose/Temporary/x86_64/iso"))).rejects.toThrow(
      /ENOENT/,
    );
    await expect(stat(join(h.dir(row.id), "compose/metadata/images.json"))).rejects.toThrow(
      /ENOENT/,
    );
    await h.stopAll();
  });

  test("xorriso failing fails the compose saying so; no tree is published", async () => {
    const h = await composeHarness();
    await fakeXorriso(
      'for a; do case "$prev" in -o) echo partial > "$a";; esac; prev="$a"; done\necho "xorriso : FAILURE : disk full" >&2\nexit 5',
    );
    const row = await h.run(REQUEST);
    expect(row.state).toBe(4);
    expect(row.stateReason).toBe(
      `Error while generating compose: writing the ISO of x86_64 (compose/Temporary/x86_64/iso/${isoName(row.id, h.clock.now())}) failed: xorriso exited with 5: xorriso : FAILURE : disk full`,
    );
    expect(await readdir(h.dir(row.id))).not.toContain("compose");
    await h.stopAll();
  });

  test("the worker's cancel signal kills xorriso; nothing is published", async () => {
    const h = await composeHarness();
    const pidFile = join(tempDir("xorriso-pid-"), "pid");
    await fakeXorriso(`echo $$ > ${pidFile}\nexec sleep 60`);
    const c = await h.create(REQUEST);
    const w = h.newWorker("canceller");
    await w.fill();
    const pid = Number(
      await waitFor(
        async () => (await readFile(pidFile, "utf8").catch(() => "")).trim() || undefined,
        {
          what: "xorriso to start",
          timeoutMs: 30_000,
        },
      ),
    );
    expect(isAlive(pid)).toBe(true);
    await w.stop(0);
    await waitFor(() => !isAlive(pid), { what: "xorriso to be killed" });
    await expect(stat(join(h.dir(c.id), "compose"))).rejects.toThrow(/ENOENT/);
    await h.stopAll();
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The ISO name of compose `id` of type test made on `now`'s date. */
function isoName(id: number, now: Date): string {
  const ymd = now.toISOString().slice(0, 10).replace(/-/g, "");
  return `odcs-${id}-1-${ymd}.t.0-Temporary-x86_64-dvd1.iso`;
}
