/**
 * Streaming repodata reads: the same records as the whole-file reader that
 * came before (digests recorded from it), whatever the compression and
 * however the bytes are cut into chunks; files that fail their repomd
 * checksum, break off or do not decompress fail the read and leave nothing
 * in the source cache; HTTP sources stream through a real server.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePrimary } from "../../src/rpm/repodata-parse.ts";
import {
  type FileBody,
  type ReadFile,
  type ReadRepodataOptions,
  readRepodata,
} from "../../src/rpm/repodata-read.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { ComposeError } from "../../src/sources/errors.ts";
import { openRepo, type RepoSourceContext } from "../../src/sources/repo.ts";
import { RepodataCache } from "../../src/sources/repodata-cache.ts";
import { prng } from "../helpers/corpus.ts";
import { FIXTURES_DIR } from "../helpers/fixtures.ts";
import { digestPackages } from "../helpers/repodata-digest.ts";

/** A reader that streams files from `dir` in `chunk`-byte pieces. */
const streamReader =
  (dir: string, chunk = 64 * 1024): ReadFile =>
  async (p) =>
    createReadStream(join(dir, p), { highWaterMark: chunk });

/**
 * Package count and digest of every fixture's records as the whole-file
 * reader (before streaming) parsed them: with filelists and other where
 * the fixture has them, and primary only.
 */
const FULL = { filelists: true, other: true };
const GOLDEN: [string, ReadRepodataOptions, number, string][] = [
  [
    "repos/david35mm-fc34-copr-mirror",
    FULL,
    21,
    "2a57e4fa1da1b6244bd2439c104e4548c0f616e82a9044f3aceca828c0b5071f",
  ],
  [
    "repos/libdnf-dnf-ci-fedora",
    FULL,
    291,
    "e49e616622b912435fa6254f61c9937c852801f903930fce25aac91420969a36",
  ],
  [
    "repos/librepo-yum-mock-01",
    FULL,
    1,
    "712c43bd9cdc87cf64f67fe4362e53632db29e641ab1e5366f5861308230098a",
  ],
  [
    "repos/librepo-yum-mock-02-metadata-only",
    FULL,
    1,
    "ae6469d70e59f619192c61f9fef182eaaaa5c2f408bd296ad6dbe9cf5aa5478d",
  ],
  [
    "repos/odcs-fedora-module-ed",
    FULL,
    10,
    "4c77c4a66ee49add26e0bd02d6f721cb30715321694b0c39516a449fa5792443",
  ],
  [
    "large-repodata/centos-7-x86_64-i686-docker-offline-bundle",
    FULL,
    275,
    "e8866af7f23489282f6793ae21d20be275681accd99048a3ca2e71c20e0a815a",
  ],
  [
    "large-repodata/centos-stream-9-appstream-x86_64-2025-01",
    { filelists: true },
    17649,
    "80fcd14eda6a0086626909fb01f2dfa930dbb8ddb9bd58a1d5a3af9945106d19",
  ],
  [
    "large-repodata/centos-stream-9-baseos-x86_64-2022-02",
    { filelists: true },
    1125,
    "7a9c193d41659f7ad34bfe4a247b4f51353ae56cc0f4f162ad3eb70f5bbe1b51",
  ],
  [
    "large-repodata/tizen-2.4-samsung-serranove-armv7l",
    FULL,
    592,
    "7249f2825df6241d470e8f49ed5fbdf7f0891b8acaa3dadcf9750caf65449522",
  ],
  [
    "repos/david35mm-fc34-copr-mirror",
    {},
    21,
    "04c0339650167df413c57f9be906a8c5d6ed8204eb345e5e31100984b2109918",
  ],
  [
    "repos/libdnf-dnf-ci-fedora",
    {},
    291,
    "b4b7cadefc9ea595fa3ec2c8d8832dd4c25668313e0bcce931742053589b9f7a",
  ],
  [
    "repos/librepo-yum-mock-01",
    {},
    1,
    "728ca770795568eab4e076815a4720906ab828f7d7bc08785aef5514cd909bf5",
  ],
  [
    "repos/librepo-yum-mock-02-metadata-only",
    {},
    1,
    "bbadd8b6d775241c404ee00a35fc900e14c1fbd0811c5be0aa96763a9c3a0abb",
  ],
  [
    "repos/odcs-fedora-module-ed",
    {},
    10,
    "e6b70f8fefe9446039b77d6f540f94385f415dd8f7edcbea01ae8c5f830e7e47",
  ],
  [
    "large-repodata/centos-7-x86_64-i686-docker-offline-bundle",
    {},
    275,
    "d9529aa2c69f47084f93b1025fd5ed5e305d16f62547ad10e39f761f1bdaa759",
  ],
  [
    "large-repodata/centos-stream-9-baseos-x86_64-2022-02",
    {},
    1125,
    "270a8ea2cb3b85a132be269c2c526e4c03c7bc8830dd6ac2afaf41d104e61be7",
  ],
  [
    "large-repodata/tizen-2.4-samsung-serranove-armv7l",
    {},
    592,
    "e5d9b207381dd90b8bf65b60c634aebd44d328d0075288bb63de2755bdfbf1d4",
  ],
];

const golden = (dir: string, opts: ReadRepodataOptions) => {
  const row = GOLDEN.find(([d, o]) => d === dir && JSON.stringify(o) === JSON.stringify(opts));
  if (!row) throw new Error(`no golden digest for ${dir} ${JSON.stringify(opts)}`);
  return row;
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "odcs-repodata-stream-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("streamed fixtures give the same records as the whole-file reader", () => {
  test.each(GOLDEN)("%s %j", async (dir, opts, count, digest) => {
    const repo = await readRepodata(streamReader(join(FIXTURES_DIR, dir)), opts);
    expect(repo.packages).toHaveLength(count);
    expect(digestPackages(repo.packages)).toBe(digest);
  });
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
type Codec = "gz" | "xz" | "zst" | "bz2" | "none";

function compress(xml: Uint8Array, codec: Codec): Uint8Array {
  const cli = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { input: xml, maxBuffer: 1 << 30 });
  switch (codec) {
    case "gz":
      return gzipSync(xml);
    case "xz":
      return cli("xz", ["-0", "-c"]);
    case "zst":
      return cli("zstd", ["-q", "-c"]);
    case "bz2":
      return cli("bzip2", ["-c"]);
    case "none":
      return xml;
  }
}

/**
 * A copy of fixture `dir`'s primary/filelists/other XML, recompressed with
 * `codec`, under a new repomd.xml with the new checksums.
 */
async function recompressed(dir: string, codec: Codec): Promise<string> {
  const src = join(FIXTURES_DIR, dir);
  const out = join(work, `${dir.replaceAll("/", "_")}-${codec}`);
  await mkdir(join(out, "repodata"), { recursive: true });
  const repomd = await readFile(join(src, "repodata/repomd.xml"), "utf8");
  let data = "";
  for (const type of ["primary", "filelists", "other"]) {
    const re = new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`);
    const href = re.exec(repomd)?.[1];
    if (!href) continue;
    const raw = await readFile(join(src, href)).catch(() => undefined);
    if (!raw) continue;
    const xml = href.endsWith(".gz") ? gunzipSync(raw) : raw;
    const body = compress(xml, codec);
    const name = `repodata/${type}.xml${codec === "none" ? "" : `.${codec}`}`;
    await writeFile(join(out, name), body);
    data += `<data type="${type}"><checksum type="sha256">${sha256(body)}</checksum><location href="${name}"/></data>\n`;
  }
  await writeFile(join(out, "repodata/repomd.xml"), `<repomd>${data}</repomd>\n`);
  return out;
}

describe("every compression streams to the same records", () => {
  const cases: [string, ReadRepodataOptions, Codec][] = [];
  for (const codec of ["xz", "zst", "none"] as const) {
    cases.push(["large-repodata/tizen-2.4-samsung-serranove-armv7l", FULL, codec]);
    cases.push(["large-repodata/centos-7-x86_64-i686-docker-offline-bundle", FULL, codec]);
    cases.push(["repos/libdnf-dnf-ci-fedora", FULL, codec]);
    cases.push([
      "large-repodata/centos-stream-9-baseos-x86_64-2022-02",
      { filelists: true },
      codec,
    ]);
  }
  // 52 MB of XML through fzstd's streaming decoder, block by block.
  cases.push([
    "large-repodata/centos-stream-9-appstream-x86_64-2025-01",
    { filelists: true },
    "zst",
  ]);

  test.each(cases)("%s %j as %s", async (dir, opts, codec) => {
    const [, , count, digest] = golden(dir, opts);
    const repo = await readRepodata(streamReader(await recompressed(dir, codec)), opts);
    expect(repo.packages).toHaveLength(count);
    expect(digestPackages(repo.packages)).toBe(digest);
  });

  test("bzip2 metadata is refused by name", async () => {
    const dir = await recompressed("repos/libdnf-dnf-ci-fedora", "bz2");
    await expect(readRepodata(streamReader(dir))).rejects.toThrow(
      /cannot read primary metadata repodata\/primary\.xml\.bz2: .*bzip2-compressed metadata is not supported/,
    );
  });
});

/**
 * Small documents with everything a chunk boundary can fall inside:
 * multi-byte UTF-8 (2, 3 and 4 bytes), entities and character references,
 * CDATA (holding `</package>`), comments, a processing instruction and
 * DOCTYPE, `>` and `/` inside quoted attribute values, single quotes, and
 * a package far larger than the rest.
 */
function documents(big: number): Record<string, Uint8Array> {
  const bigRequires = Array.from(
    { length: big },
    (_, i) => `<rpm:entry name="lib-ü-${i}.so()(64bit)" flags="GE" epoch="0" ver="${i}" rel="1"/>`,
  ).join("");
  const bigFiles = Array.from(
    { length: big },
    (_, i) => `<file>/usr/share/big/ファイル-${i}</file>`,
  );
  const primary = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE metadata>
<!-- a comment with <package> in it -->
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="3">
<package type="rpm">
  <name>naïve-café</name><arch>x86_64</arch>
  <version epoch="1" ver="2.0" rel="3.fc40"/>
  <checksum type="sha256" pkgid="YES">aaaa</checksum>
  <summary>Ünïcödé 中文 and 🦀 &amp; friends &lt;ok&gt; &#233;&#x1F600;\uFEFF(zwnbsp)</summary>
  <description><![CDATA[raw <b>bold</b> & </package> inside CDATA]]> then text &quot;quoted&quot;</description>
  <packager>Jöhn Dœ &lt;john@example.com&gt;</packager>
  <url>https://example.com/?a=1&amp;b=2</url>
  <time file="1700000000" build="1690000000"/>
  <size package="1234" installed="5678" archive="91011"/>
  <location href="Packages/n/naïve-café-2.0-3.fc40.x86_64.rpm"/>
  <format>
    <rpm:license>MIT &amp; BSD</rpm:license>
    <rpm:vendor>Fedora Project</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>builder-01.example.com</rpm:buildhost>
    <rpm:sourcerpm>naïve-café-2.0-3.fc40.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="9999"/>
    <rpm:provides>
      <rpm:entry name="naïve-café" flags="EQ" epoch="1" ver="2.0" rel="3.fc40"/>
      <rpm:entry name='single "quoted" &gt; name' flags="EQ" epoch="0" ver="1"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="/bin/sh" pre="1"/>
      <rpm:entry name="(a &gt; 1 or b/c &lt; 2)"/>
      <rpm:entry   name = "spaced"   flags = "LT"  epoch="0" ver="9" />
    </rpm:requires>
    <file>/usr/bin/café</file>
    <file type="dir">/etc/naïve</file>
  </format>
</package>
<?pi between packages?>
<package type="rpm"><name>big</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">bbbb</checksum><summary>big one</summary><description/><location href="big.rpm"/><format><rpm:requires>${bigRequires}</rpm:requires></format></package>
<package type="rpm"><name>tiny</name><arch>src</arch><version ver="0.1" rel="0"/><checksum type="sha1" pkgid="YES">cccc</checksum><summary/><description/><location xml:base="https://mirror.example/x/" href="tiny.src.rpm"/><format/></package>
</metadata>
`;
  const filelists = `<?xml version="1.0" encoding="UTF-8"?>
<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="3">
<package pkgid="aaaa" name="naïve-café" arch="x86_64"><version epoch="1" ver="2.0" rel="3.fc40"/>
<file>/usr/bin/café</file><file type="dir">/etc/naïve</file><file type="ghost">/var/log/🦀.log</file><file>/usr/share/a&amp;b</file>
</package>
<package pkgid="bbbb" name="big" arch="noarch"><version epoch="0" ver="1" rel="1"/>${bigFiles.join("")}</package>
<package pkgid="cccc" name="tiny" arch="src"><version epoch="0" ver="0.1" rel="0"/></package>
</filelists>
`;
  const other = `<?xml version="1.0" encoding="UTF-8"?>
<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="2">
<package pkgid="aaaa" name="naïve-café" arch="x86_64"><version epoch="1" ver="2.0" rel="3.fc40"/>
<changelog author="Jöhn Dœ &lt;john@example.com&gt; - 2.0-3" date="1690000000">- Fix “quotes” &amp; ünïcödé
- second line</changelog>
<changelog author="Zoë &lt;z@example.com&gt; - 1.0-1" date="1600000000"><![CDATA[- first <release>]]></changelog>
</package>
<package pkgid="bbbb" name="big" arch="noarch"><version epoch="0" ver="1" rel="1"/></package>
</otherdata>
`;
  const repomd = `<repomd><revision>42</revision>
<data type="primary"><location href="repodata/primary.xml"/></data>
<data type="filelists"><location href="repodata/filelists.xml"/></data>
<data type="other"><location href="repodata/other.xml"/></data></repomd>`;
  return {
    "repodata/repomd.xml": encode(repomd),
    "repodata/primary.xml": encode(primary),
    "repodata/filelists.xml": encode(filelists),
    "repodata/other.xml": encode(other),
  };
}

const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const FILES = documents(400);
/** The same with a 3-entry big package: small enough to cut at every offset. */
const SMALL_FILES = documents(3);
const PRIMARY = decode(FILES["repodata/primary.xml"]);

async function* pieces(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of cuts) {
    yield bytes.subarray(at, cut);
    at = cut;
  }
  yield bytes.subarray(at);
}

/** Every file of FILES cut by `cutsOf(size)`. */
const chunkedReader =
  (cutsOf: (size: number) => number[], files = FILES): ReadFile =>
  async (p) => {
    const f = files[p];
    if (!f) throw new Error(`ENOENT ${p}`);
    return pieces(f, cutsOf(f.length));
  };
const every = (step: number) => (size: number) =>
  Array.from({ length: Math.ceil(size / step) - 1 }, (_, i) => (i + 1) * step);

describe("chunk boundaries do not change the records", () => {
  let whole: PackageRecord[];
  beforeAll(async () => {
    whole = (await readRepodata(async (p) => FILES[p] as FileBody, FULL)).packages;
  });

  test("the whole documents parse to what they say", () => {
    expect(whole.map((p) => p.name)).toEqual(["naïve-café", "big", "tiny"]);
    const [cafe, big, tiny] = whole;
    expect(cafe).toMatchObject({
      epoch: "1",
      summary: "Ünïcödé 中文 and 🦀 & friends <ok> é😀\uFEFF(zwnbsp)",
      description: 'raw <b>bold</b> & </package> inside CDATA then text "quoted"',
      packager: "Jöhn Dœ <john@example.com>",
      url: "https://example.com/?a=1&b=2",
      license: "MIT & BSD",
      sourcerpm: "naïve-café-2.0-3.fc40.src.rpm",
      location: "Packages/n/naïve-café-2.0-3.fc40.x86_64.rpm",
      timeBuild: 1690000000,
      sizeArchive: 91011,
      headerStart: 4504,
      hasFullFilelist: true,
    });
    expect(cafe?.provides).toEqual([
      { name: "naïve-café", flags: "EQ", epoch: "1", ver: "2.0", rel: "3.fc40" },
      { name: 'single "quoted" > name', flags: "EQ", epoch: "0", ver: "1" },
    ]);
    expect(cafe?.requires).toEqual([
      { name: "/bin/sh", pre: true },
      { name: "(a > 1 or b/c < 2)" },
      { name: "spaced", flags: "LT", epoch: "0", ver: "9" },
    ]);
    expect(cafe?.files.map((f) => `${f.type}:${f.path}`)).toEqual([
      "file:/usr/bin/café",
      "dir:/etc/naïve",
      "ghost:/var/log/🦀.log",
      "file:/usr/share/a&b",
    ]);
    expect(cafe?.changelogs).toEqual([
      {
        author: "Jöhn Dœ <john@example.com> - 2.0-3",
        date: 1690000000,
        text: "- Fix “quotes” & ünïcödé\n- second line",
      },
      { author: "Zoë <z@example.com> - 1.0-1", date: 1600000000, text: "- first <release>" },
    ]);
    expect(big?.requires).toHaveLength(400);
    expect(big?.requires[399]).toEqual({
      name: "lib-ü-399.so()(64bit)",
      flags: "GE",
      epoch: "0",
      ver: "399",
      rel: "1",
    });
    expect(big?.files).toHaveLength(400);
    expect(tiny).toMatchObject({ epoch: "0", locationBase: "https://mirror.example/x/" });
    expect(tiny?.changelogs).toEqual([]);
  });

  test.each([1, 7, 64])("%i-byte chunks, parsed as soon as they come", async (step) => {
    const repo = await readRepodata(chunkedReader(every(step)), { ...FULL, batchChars: 1 });
    expect(repo.packages).toEqual(whole);
  });

  test("random chunk sizes, several seeds and batch sizes", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = prng(seed);
      const cutsOf = (size: number) => {
        const cuts: number[] = [];
        for (let at = 1 + Math.floor(rnd() * 300); at < size; at += 1 + Math.floor(rnd() * 300))
          cuts.push(at);
        return cuts;
      };
      for (const batchChars of [1, 100, 5000]) {
        const repo = await readRepodata(chunkedReader(cutsOf), { ...FULL, batchChars });
        expect(repo.packages).toEqual(whole);
      }
    }
  });

  test("one cut at every byte offset of each document", async () => {
    const small = (await readRepodata(async (p) => SMALL_FILES[p] as FileBody, FULL)).packages;
    expect(small.map((p) => p.requires.length)).toEqual([3, 3, 0]);
    for (const file of ["repodata/primary.xml", "repodata/filelists.xml", "repodata/other.xml"]) {
      const size = SMALL_FILES[file]?.length ?? 0;
      for (let cut = 1; cut < size; cut++) {
        const cutsOf = (n: number) => (n === size ? [cut] : []);
        const read = chunkedReader(cutsOf, SMALL_FILES);
        const repo = await readRepodata(read, { ...FULL, batchChars: 1 });
        expect(repo.packages, `${file} cut at ${cut}`).toEqual(small);
      }
    }
  });

  test("gzip fed one byte at a time", async () => {
    const gz: Record<string, Uint8Array> = {
      "repodata/repomd.xml": encode(
        decode(FILES["repodata/repomd.xml"]).replaceAll('.xml"', '.xml.gz"'),
      ),
    };
    for (const t of ["primary", "filelists", "other"])
      gz[`repodata/${t}.xml.gz`] = gzipSync(FILES[`repodata/${t}.xml`] ?? new Uint8Array());
    const repo = await readRepodata(chunkedReader(every(1), gz), FULL);
    expect(repo.packages).toEqual(whole);
  });

  test("a byte-order mark before the XML declaration is skipped", async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    const files = { ...FILES };
    for (const f of ["repodata/primary.xml", "repodata/filelists.xml", "repodata/other.xml"])
      files[f] = new Uint8Array([...bom, ...(FILES[f] ?? [])]);
    const repo = await readRepodata(chunkedReader(every(2), files), { ...FULL, batchChars: 1 });
    expect(repo.packages).toEqual(whole);
  });

  test("a package is handed on before the input has ended", async () => {
    let sawFirst: () => void = () => {};
    const firstSeen = new Promise<void>((resolve) => {
      sawFirst = resolve;
    });
    const cut = PRIMARY.indexOf("<?pi between");
    async function* text() {
      yield PRIMARY.slice(0, cut);
      await firstSeen; // never resolves if the parser waits for the whole input
      yield PRIMARY.slice(cut);
    }
    const names: string[] = [];
    const onPackage = (p: PackageRecord) => {
      names.push(p.name);
      if (names.length === 1) sawFirst();
    };
    await parsePrimary(text(), onPackage, { batchChars: 1 });
    expect(names).toEqual(["naïve-café", "big", "tiny"]);
  });

  test("XML cut off inside a package is an error, not a shorter list", async () => {
    const files = { ...FILES, "repodata/primary.xml": encode(PRIMARY.slice(0, 2000)) };
    await expect(readRepodata(chunkedReader(every(100), files))).rejects.toThrow(
      /cannot read primary metadata repodata\/primary\.xml: unterminated/,
    );
  });
});

const TIZEN = "large-repodata/tizen-2.4-samsung-serranove-armv7l";

/** A copy of the Tizen repository with its `type` file changed by `spoil`. */
async function spoiled(type: string, spoil: (b: Buffer) => Buffer): Promise<string> {
  const dir = await mkdtemp(join(work, "spoiled-"));
  await cp(join(FIXTURES_DIR, TIZEN, "repodata"), join(dir, "repodata"), { recursive: true });
  const repomd = await readFile(join(dir, "repodata/repomd.xml"), "utf8");
  const re = new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`);
  const href = re.exec(repomd)?.[1] ?? "";
  await writeFile(join(dir, href), spoil(await readFile(join(dir, href))));
  return dir;
}

/** The gzip header's mtime: changing it leaves the content intact, so only the checksum can tell. */
const touchMtime = (b: Buffer) => {
  const c = Buffer.from(b);
  c[4] = (c[4] ?? 0) ^ 0xff;
  return c;
};

describe("corrupt or truncated files fail the read", () => {
  test("a file that inflates fine but fails its checksum", async () => {
    const dir = await spoiled("primary", touchMtime);
    await expect(readRepodata(streamReader(dir))).rejects.toThrow(
      /cannot read primary metadata repodata\/\S+-primary\.xml\.gz: its sha256 is [0-9a-f]{64}, but repomd\.xml says fd62d77c/,
    );
  });

  test("truncated and bit-flipped files", async () => {
    const cut = await spoiled("filelists", (b) => b.subarray(0, b.length >> 1));
    await expect(readRepodata(streamReader(cut, 4096), FULL)).rejects.toThrow(
      /cannot read filelists metadata .*-filelists\.xml\.gz: /,
    );
    const flipped = await spoiled("other", (b) => {
      const c = Buffer.from(b);
      c[c.length >> 1] = (c[c.length >> 1] ?? 0) ^ 0x55;
      return c;
    });
    await expect(readRepodata(streamReader(flipped), FULL)).rejects.toThrow(
      /cannot read other metadata .*-other\.xml\.gz: /,
    );
  });
});

const context = (cache: RepodataCache, allowedUrl = "http://127.0.0.1"): RepoSourceContext => ({
  policy: { ODCS_ALLOWED_REPO_ROOTS: ["/"], ODCS_ALLOWED_REPO_URLS: [allowedUrl] },
  cache,
  signal: new AbortController().signal,
  downloadTimeoutMs: 30_000,
  maxRepomdBytes: 4 << 20,
  maxMetadataBytes: 2 ** 31,
});

describe("sources: local and HTTP repositories stream into the cache", () => {
  let server: Server;
  let url: string;
  /** Paths answered with their first half and then a dropped connection. */
  const breakOff = new Set<string>();
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(work, "http-"));
    await cp(join(FIXTURES_DIR, TIZEN, "repodata"), join(root, "tizen/repodata"), {
      recursive: true,
    });
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      readFile(join(root, path)).then(
        (body) => {
          // Small writes: the client sees the body arrive in many pieces.
          res.writeHead(200, { "content-type": "application/octet-stream" });
          const end = breakOff.has(path) ? body.length >> 1 : body.length;
          for (let at = 0; at < end; at += 4096)
            res.write(body.subarray(at, Math.min(end, at + 4096)));
          if (end < body.length) res.destroy();
          else res.end();
        },
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/tizen/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test("an HTTP source reads the same records as the local fixture", async () => {
    const cache = new RepodataCache(1 << 30);
    const opened = await openRepo({ kind: "url", url }, context(cache, url));
    expect(digestPackages(opened.repodata.packages)).toBe(golden(TIZEN, FULL)[3]);
    const again = await openRepo({ kind: "url", url }, context(cache, url));
    expect(again.repodata).toBe(opened.repodata);
  });

  test("a body that breaks off is a retryable failure and caches nothing", async () => {
    const repomd = await readFile(join(root, "tizen/repodata/repomd.xml"), "utf8");
    const href = /<data type="filelists">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1];
    breakOff.add(`/tizen/${href}`);
    const cache = new RepodataCache(1 << 30);
    try {
      const err = await openRepo({ kind: "url", url }, context(cache, url)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ComposeError);
      expect((err as ComposeError).message).toMatch(
        /^cannot read the metadata of http:\/\/127\.0\.0\.1:\d+\/tizen\/: cannot read filelists metadata /,
      );
      expect((err as ComposeError).retryable).toBe(true);
      expect(cache.size).toBe(0);
    } finally {
      breakOff.clear();
    }
    const opened = await openRepo({ kind: "url", url }, context(cache, url));
    expect(opened.repodata.packages).toHaveLength(592);
  });

  test("a local file failing its checksum fails the source and caches nothing", async () => {
    const dir = await spoiled("other", touchMtime);
    const cache = new RepodataCache(1 << 30);
    const err = await openRepo({ kind: "path", path: dir }, context(cache)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ComposeError);
    expect((err as ComposeError).message).toMatch(
      /cannot read other metadata .*-other\.xml\.gz: its sha256 is .*but repomd\.xml says/,
    );
    expect((err as ComposeError).retryable).toBe(false);
    expect(cache.size).toBe(0);
  });
});
