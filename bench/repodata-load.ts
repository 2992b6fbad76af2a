/**
 * Repodata load benchmark: wall time, peak RSS and retained heap of reading
 * a repository's metadata as a worker does (files streamed from disk), each
 * run in its own child process so a peak is that case's alone. Cases:
 * CentOS Stream 9 AppStream primary only; AppStream with filelists and other
 * (the fixture has neither, so they are generated at realistic size: ~60
 * files a package, ~50 MB of changelogs like the real other.xml); and the
 * synthetic 10 000-package corpus with filelists. libsolv loads the same
 * primary (+filelists) beside it, via bench/libsolv-bench.py.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGzip } from "node:zlib";
import { estimateRepodataBytes } from "../src/rpm/record-size.ts";
import { type ReadRepodataOptions, readRepodata } from "../src/rpm/repodata-read.ts";
import type { PackageRecord } from "../src/rpm/types.ts";
import { generateCorpus, prng } from "../test/helpers/corpus.ts";
import { FIXTURES_DIR } from "../test/helpers/fixtures.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const LIBSOLV = fileURLToPath(new URL("./libsolv-bench.py", import.meta.url));
const APPSTREAM = join(FIXTURES_DIR, "large-repodata/centos-stream-9-appstream-x86_64-2025-01");
/** Generated AppStream filelists/other are kept here between runs (git-ignored). */
const GENERATED = join(ROOT, ".cache/bench-repodata/appstream-full-v1");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Sample {
  packages: number;
  loadMs: number;
  peakRssMb: number;
  /** V8 heap reserved at the end (it does not shrink right away: about its peak). */
  heapTotalMb: number;
  /** Live heap after a full GC: what the loaded records keep. */
  heapMb: number;
  estimateMb: number;
}

/** Child side: load `dir` once and print a Sample. */
async function child(dir: string, opts: ReadRepodataOptions): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const t0 = performance.now();
  const repo = await readRepodata(
    async (p) =>
      p.endsWith("repomd.xml") ? readFile(join(dir, p)) : createReadStream(join(dir, p)),
    opts,
  );
  const loadMs = performance.now() - t0;
  gc?.();
  const sample: Sample = {
    packages: repo.packages.length,
    loadMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapTotalMb: process.memoryUsage().heapTotal / 2 ** 20,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    estimateMb: estimateRepodataBytes(repo) / 2 ** 20,
  };
  console.log(JSON.stringify(sample));
}

/** Peak RSS of a child that loads these modules and reads nothing: the floor under every case. */
function idleRssMb(): number {
  const args = ["--import", "tsx", SELF, "--idle"];
  const out = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`bench child failed: ${out.stderr}`);
  return Number(out.stdout);
}

function runChild(dir: string, opts: ReadRepodataOptions): Sample {
  const args = ["--expose-gc", "--import", "tsx", SELF, "--child", dir, JSON.stringify(opts)];
  const out = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`bench child failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Sample;
}

function libsolv(primary: string, filelists: string | null, install: string[] = []) {
  const out = spawnSync("/usr/bin/python3", [LIBSOLV], {
    input: JSON.stringify({ arch: "x86_64", primary, filelists, install }),
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { loadMs: number; peakRssMb: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function dataFile(dir: string, suffix: string): Promise<string> {
  const name = (await readdir(join(dir, "repodata"))).find((f) => f.endsWith(suffix));
  if (!name) throw new Error(`no *${suffix} in ${dir}`);
  return join(dir, "repodata", name);
}

/** Gzip `lines` into `path`; returns the sha256 of the compressed file. */
async function writeGz(path: string, lines: Iterable<string>): Promise<string> {
  await pipeline(Readable.from(lines), createGzip(), createWriteStream(path));
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function* filelistsXml(pkgs: PackageRecord[]) {
  const rnd = prng(7);
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${pkgs.length}">\n`;
  for (const p of pkgs) {
    const n = Math.floor(rnd() * rnd() * 180);
    let files = p.files.map((f) => `<file>${esc(f.path)}</file>`).join("");
    files += `<file type="dir">/usr/share/doc/${esc(p.name)}</file>`;
    for (let i = 0; i < n; i++) {
      const dir = ["/usr/lib64", "/usr/share", "/usr/libexec", "/usr/include"][i % 4];
      files += `<file>${dir}/${esc(p.name)}/sub${i % 7}/file-${i}.${["so", "py", "h", "dat"][i % 4]}</file>`;
    }
    yield `<package pkgid="${p.pkgid}" name="${esc(p.name)}" arch="${p.arch}"><version epoch="${p.epoch}" ver="${esc(p.version)}" rel="${esc(p.release)}"/>${files}</package>\n`;
  }
  yield "</filelists>\n";
}

function* otherXml(pkgs: PackageRecord[]) {
  const words = "fix update rebuild resolves security backport upstream release crash build".split(
    " ",
  );
  const bySource = new Map<string, string>();
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${pkgs.length}">\n`;
  for (const p of pkgs) {
    let log = bySource.get(p.sourcerpm);
    if (log === undefined) {
      const rnd = prng(bySource.size + 1);
      log = "";
      for (let i = 0, n = 6 + Math.floor(rnd() * 5); i < n; i++) {
        const text = Array.from(
          { length: 40 + Math.floor(rnd() * 30) },
          () => words[Math.floor(rnd() * words.length)],
        ).join(" ");
        log += `<changelog author="Packager ${i} &lt;p${i}@example.com&gt; - ${esc(p.version)}-${i}" date="${1_600_000_000 + i * 86_400}">- ${text}</changelog>`;
      }
      bySource.set(p.sourcerpm, log);
    }
    yield `<package pkgid="${p.pkgid}" name="${esc(p.name)}" arch="${p.arch}"><version epoch="${p.epoch}" ver="${esc(p.version)}" rel="${esc(p.release)}"/>${log}</package>\n`;
  }
  yield "</otherdata>\n";
}

/** AppStream's primary plus generated filelists and other, with a repomd listing all three. */
async function appstreamFull(): Promise<string> {
  const repomdPath = join(GENERATED, "repodata/repomd.xml");
  if (existsSync(repomdPath)) return GENERATED;
  await mkdir(join(GENERATED, "repodata"), { recursive: true });
  const primary = await dataFile(APPSTREAM, "primary.xml.gz");
  await copyFile(primary, join(GENERATED, "repodata/primary.xml.gz"));
  const { packages } = await readRepodata((p) => readFile(join(APPSTREAM, p)));
  const sums = {
    primary: createHash("sha256")
      .update(await readFile(primary))
      .digest("hex"),
    filelists: await writeGz(join(GENERATED, "repodata/filelists.xml.gz"), filelistsXml(packages)),
    other: await writeGz(join(GENERATED, "repodata/other.xml.gz"), otherXml(packages)),
  };
  const data = Object.entries(sums)
    .map(
      ([type, sum]) =>
        `<data type="${type}"><checksum type="sha256">${sum}</checksum><location href="repodata/${type}.xml.gz"/></data>`,
    )
    .join("\n");
  await writeFile(repomdPath, `<repomd><revision>bench</revision>\n${data}\n</repomd>\n`);
  return GENERATED;
}

async function corpusDir(): Promise<string> {
  const c = generateCorpus({ packages: 10_000, seed: 42 });
  const dir = await mkdtemp(join(tmpdir(), "odcs-bench-load-"));
  await mkdir(join(dir, "repodata"));
  await writeFile(join(dir, "repodata/repomd.xml"), c.repomdXml);
  await writeFile(join(dir, "repodata/primary.xml"), c.primaryXml);
  await writeFile(join(dir, "repodata/filelists.xml"), c.filelistsXml);
  return dir;
}

/** bench/rpm.ts's request: ~200 binary package names spread over the repository. */
function rpmBenchRequest(packages: PackageRecord[]): string[] {
  const names = [...new Set(packages.filter((p) => p.arch !== "src").map((p) => p.name))].sort();
  const step = Math.max(1, Math.floor(names.length / 200));
  return names.filter((_, i) => i % step === 0).slice(0, 200);
}

export async function benchRepodataLoad(): Promise<void> {
  const full = await appstreamFull();
  const appstreamPrimary = await dataFile(APPSTREAM, "primary.xml.gz");
  const request = rpmBenchRequest(
    (await readRepodata((p) => readFile(join(APPSTREAM, p)))).packages,
  );
  const corpus = await corpusDir();
  const cases: {
    label: string;
    dir: string;
    opts: ReadRepodataOptions;
    libsolv: [string, string | null];
  }[] = [
    {
      label: "CentOS Stream 9 AppStream, primary only",
      dir: APPSTREAM,
      opts: {},
      libsolv: [appstreamPrimary, null],
    },
    {
      label: "AppStream + generated filelists + other (what a worker loads)",
      dir: full,
      opts: { filelists: true, other: true },
      libsolv: [join(full, "repodata/primary.xml.gz"), join(full, "repodata/filelists.xml.gz")],
    },
    {
      label: "synthetic 10k, primary + filelists",
      dir: corpus,
      opts: { filelists: true },
      libsolv: [join(corpus, "repodata/primary.xml"), join(corpus, "repodata/filelists.xml")],
    },
  ];
  const idle = median(Array.from({ length: RUNS }, idleRssMb));
  console.log(`\nan idle child (node + tsx + these modules) peaks at ${idle.toFixed(0)} MB RSS`);
  try {
    for (const c of cases) {
      const samples = Array.from({ length: RUNS }, () => runChild(c.dir, c.opts));
      const lib = libsolv(...c.libsolv);
      const at = (f: (s: Sample) => number) => median(samples.map(f)).toFixed(0);
      const rss = median(samples.map((s) => s.peakRssMb));
      console.log(
        `\n## ${c.label}: ${samples[0]?.packages} packages, median of ${RUNS} child runs`,
      );
      console.log(
        `  ours:    load ${at((s) => s.loadMs)} ms  peak rss ${rss.toFixed(0)} MB (${(rss - idle).toFixed(0)} above idle)  heap total ${at((s) => s.heapTotalMb)} MB  live after load ${at((s) => s.heapMb)} MB  (estimateRepodataBytes ${at((s) => s.estimateMb)} MB)`,
      );
      const what = c.libsolv[1] ? "primary + filelists; libsolv skips other" : "primary";
      console.log(
        `  libsolv: load ${lib.loadMs.toFixed(0)} ms  peak rss ${lib.peakRssMb.toFixed(0)} MB (load only, ${what})  → ours ${(rss / lib.peakRssMb).toFixed(2)}x`,
      );
      if (c.libsolv[0] === appstreamPrimary) {
        const solved = libsolv(appstreamPrimary, null, request);
        console.log(
          `  libsolv: peak rss ${solved.peakRssMb.toFixed(0)} MB with bench/rpm.ts's ${request.length}-name solve and .solv round trip  → ours ${(rss / solved.peakRssMb).toFixed(2)}x`,
        );
      }
    }
  } finally {
    await rm(corpus, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--idle")
  process.stdout.write(String(process.resourceUsage().maxRSS / 1024));
if (process.argv[2] === "--child") {
  await child(process.argv[3] ?? "", JSON.parse(process.argv[4] ?? "{}") as ReadRepodataOptions);
}
