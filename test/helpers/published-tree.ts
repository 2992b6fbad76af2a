/**
 * The one check that a compose's published tree is whole and is what the
 * database says, shared by the soak (bench/soak-check.ts), the e2e fault
 * tests (compose-checks.ts) and the crash-moment tests. It trusts nothing
 * the tree says about itself without recomputing it: every digest is taken
 * here, with the algorithm the metadata declares (createrepo_c and our
 * native writer may declare sha256, a source repo's primary sha1 or
 * sha512, …), and the package lists are compared NEVRA by NEVRA.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readdir, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../src/db/client.ts";
import { listComposeRpms } from "../../src/db/compose-rpms.ts";
import { type ComposeRow, type ComposeRpmRow, composes } from "../../src/db/schema.ts";
import { RESULTS, SOURCE_TYPES } from "../../src/domain/states.ts";
import { HASHES } from "../../src/rpm/decompress.ts";
import { parseRepomd } from "../../src/rpm/repodata-parse.ts";
import { readRepodataWithRepomd } from "../../src/rpm/repodata-read.ts";

/** Digests of files, computed once per file and algorithm while one check runs. */
class Digests {
  private readonly seen = new Map<string, Promise<string>>();

  /** The hex digest of `file` by the repodata type name `type`; throws on an unknown type. */
  of(file: string, type: string): Promise<string> {
    const algo = HASHES[type.toLowerCase()];
    if (!algo) return Promise.reject(new Error(`unknown checksum type "${type}"`));
    const key = `${algo}\0${file}`;
    let got = this.seen.get(key);
    if (!got) {
      got = (async () => {
        const hash = createHash(algo);
        for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
        return hash.digest("hex");
      })();
      this.seen.set(key, got);
    }
    return got;
  }

  /** Undefined when `file` has that digest, else why not. */
  async mismatch(file: string, type: string, want: string): Promise<string | undefined> {
    try {
      const got = await this.of(file, type);
      return got === want.trim().toLowerCase() ? undefined : `its ${type} is ${got}, not ${want}`;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

export interface PublishedTreeOptions {
  /**
   * Report the tree of a removed compose that no live compose reuses
   * (default true). The soak turns it off: a server killed between marking
   * a compose removed and deleting its files leaves an orphan dir that a
   * later sweep deletes (src/sweep/expire.ts), and the soak's last sweep
   * may not have come.
   */
  removedGone?: boolean;
}

/**
 * What is wrong with the published trees under `targetDir`, one line each
 * (empty when all is well). A done compose: STATUS FINISHED; RPM files
 * exactly its `compose_rpms`, each with its recorded checksum; per tree
 * arch, repodata whose repomd.xml parses and names only files that exist
 * with the checksum of the type it declares, whose primary lists exactly
 * the compose's NEVRAs at their paths, each RPM byte for byte what primary's
 * checksum says; ISO images as images.json and SHA256SUM say; no hidden or
 * `.tmp` entry (staging leftovers) served. A reuser: its original's tree
 * there. A regeneration: its original's package set. A failed compose
 * publishes its log only; a removed one nothing (see `removedGone`).
 * Composes in other target dirs than "default" are not looked at.
 */
export async function publishedTreeProblems(
  db: Db,
  targetDir: string,
  opts: PublishedTreeOptions = {},
): Promise<string[]> {
  const rows = await db.select().from(composes);
  const digests = new Digests();
  const problems: string[] = [];
  for (const r of rows) {
    if (r.targetDir !== "default") continue;
    const dir = join(targetDir, `odcs-${r.id}`);
    const say = (p: string) => problems.push(`compose ${r.id}: ${p}`);
    if (r.state === 4 || (r.state === 2 && r.reusedId === null)) {
      const shown = await linkProblem(targetDir, r);
      if (shown) say(shown);
    }
    if (r.state === 4) {
      if (existsSync(dir)) {
        const extra = (await readdir(dir)).filter((f) => f !== "pungi-stderr.log");
        if (extra.length > 0)
          problems.push(`compose ${r.id} (failed): published ${extra.join(", ")}`);
      }
    } else if (r.state === 3) {
      const reused = rows.some((o) => o.reusedId === r.id && o.state !== 3);
      const trees = join(targetDir, ".published", `odcs-${r.id}`);
      if ((opts.removedGone ?? true) && !reused && existsSync(dir))
        say(`removed, but ${dir} exists`);
      if ((opts.removedGone ?? true) && !reused && existsSync(trees))
        say(`removed, but ${trees} exists`);
    } else if (r.state === 2 && r.reusedId !== null) {
      // A reuser's URLs name the original's tree: it must be there, whole.
      if ((await statusOf(join(targetDir, `odcs-${r.reusedId}`))) !== "FINISHED")
        say(`reuses compose ${r.reusedId}, whose tree is not there`);
    } else if (r.state === 2) {
      for (const p of await doneTreeProblems(db, r, dir, digests)) say(p);
    }
  }
  return problems;
}

/**
 * What is wrong with the link `odcs-<id>` of a settled compose: it must be
 * a symlink to `.published/odcs-<id>/<token>` of the tree the database
 * chose (`published_attempt`), and that tree must exist. A done compose
 * must have chosen one; a failed one may have none (failed before it had a
 * tree, or by the sweep), and then whatever is shown is checked as a
 * failed compose's tree.
 */
async function linkProblem(targetDir: string, r: ComposeRow): Promise<string | undefined> {
  const link = join(targetDir, `odcs-${r.id}`);
  let text: string | undefined;
  try {
    text = await readlink(link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EINVAL") return `${link} is not a symlink`;
    if (code !== "ENOENT") throw err;
  }
  const choice = r.publishedAttempt;
  if (choice === null)
    return r.state === 2 ? "done, but the database chose no published tree" : undefined;
  const want = join(".published", `odcs-${r.id}`, choice);
  if (text !== want)
    return `odcs-${r.id} shows ${text ?? "nothing"}, not ${want}, the tree the database chose`;
  if (!existsSync(link)) return `odcs-${r.id} shows ${want}, which does not exist`;
  return undefined;
}

async function statusOf(dir: string): Promise<string> {
  const file = join(dir, "STATUS");
  return existsSync(file) ? (await readFile(file, "utf8")).trim() : "absent";
}

const nevra = (x: {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}) => `${x.name}-${x.epoch || "0"}:${x.version}-${x.release}.${x.arch}`;

async function doneTreeProblems(
  db: Db,
  r: ComposeRow,
  dir: string,
  digests: Digests,
): Promise<string[]> {
  const problems: string[] = [];
  const status = await statusOf(dir);
  if (status !== "FINISHED") problems.push(`STATUS is ${status}, not FINISHED`);
  if (!existsSync(dir)) return problems;
  const entries = (await readdir(dir, { recursive: true })).map(String);
  for (const f of entries)
    if (f.split("/").some((seg) => seg.startsWith(".")) || f.endsWith(".tmp"))
      problems.push(`${f} is served: a staging leftover`);
  // A pulp compose is a .repo file naming Pulp's repositories: no packages of its own.
  if (r.sourceType === SOURCE_TYPES.pulp) return problems;
  const expected = await listComposeRpms(db, r.id);
  if (expected.length === 0) problems.push("done with no compose_rpms");
  const tree = join(dir, "compose", "Temporary");
  const want = new Set(expected.map((x) => join(x.treeArch, "os", x.path)));
  const have = new Set(
    entries
      .filter((f) => f.startsWith("compose/Temporary/") && f.endsWith(".rpm"))
      .map((f) => f.slice("compose/Temporary/".length)),
  );
  for (const f of want) if (!have.has(f)) problems.push(`${f} missing`);
  for (const f of have) if (!want.has(f)) problems.push(`${f} not in compose_rpms`);
  for (const x of expected) {
    const file = join(tree, x.treeArch, "os", x.path);
    if (!existsSync(file)) continue;
    if (!x.checksum) problems.push(`compose_rpms records no checksum for ${x.treeArch}/${x.path}`);
    else {
      const bad = await digests.mismatch(file, x.checksumType, x.checksum);
      if (bad) problems.push(`${x.treeArch}/${x.path} is not the RPM compose_rpms records: ${bad}`);
    }
  }
  for (const arch of new Set(expected.map((x) => x.treeArch)))
    for (const p of await repodataProblems(
      join(tree, arch, "os"),
      expected.filter((x) => x.treeArch === arch),
      digests,
    ))
      problems.push(`${arch}: ${p}`);
  if ((r.results & RESULTS.iso) !== 0 || existsSync(join(dir, "compose/metadata/images.json")))
    problems.push(
      ...(await isoProblems(dir, [...new Set(expected.map((x) => x.treeArch))], digests)),
    );
  if (r.regenerateOf !== null) {
    // A renewal of a removed or failed compose: the same package set, if it had one.
    const before = await listComposeRpms(db, r.regenerateOf);
    const key = (x: { treeArch: string; path: string }) => `${x.treeArch}/${x.path}`;
    if (
      before.length > 0 &&
      before.map(key).sort().join(" ") !== expected.map(key).sort().join(" ")
    )
      problems.push(`regenerates compose ${r.regenerateOf} with other packages`);
  }
  return problems;
}

/** The repository at `repo` against the compose_rpms rows of its tree arch. */
async function repodataProblems(
  repo: string,
  rows: readonly ComposeRpmRow[],
  digests: Digests,
): Promise<string[]> {
  const repomdPath = join(repo, "repodata", "repomd.xml");
  if (!existsSync(repomdPath)) return ["no repodata/repomd.xml"];
  const repomdBytes = await readFile(repomdPath);
  let data: ReturnType<typeof parseRepomd>["data"];
  try {
    data = parseRepomd(repomdBytes.toString("utf8")).data;
  } catch (err) {
    return [`repodata/repomd.xml does not parse: ${(err as Error).message}`];
  }
  if (!data.some((d) => d.type === "primary")) return ["repodata/repomd.xml names no primary"];
  const problems: string[] = [];
  for (const d of data) {
    const file = join(repo, d.location);
    if (!existsSync(file)) problems.push(`${d.location} named by repomd.xml is missing`);
    else if (!d.checksum || !d.checksumType)
      problems.push(`${d.location} has no checksum in repomd.xml`);
    else {
      const bad = await digests.mismatch(file, d.checksumType, d.checksum);
      if (bad) problems.push(`${d.location} does not match repomd.xml: ${bad}`);
    }
  }
  if (problems.length > 0) return problems;
  let packages: Awaited<ReturnType<typeof readRepodataWithRepomd>>["packages"];
  try {
    ({ packages } = await readRepodataWithRepomd((rel) => readFile(join(repo, rel)), repomdBytes));
  } catch (err) {
    return [`primary cannot be read: ${(err as Error).message}`];
  }
  const listed = packages.map((p) => `${nevra(p)} ${p.location}`).sort();
  const recorded = rows.map((x) => `${nevra(x)} ${x.path}`).sort();
  const listedSet = new Set(listed);
  const recordedSet = new Set(recorded);
  for (const x of recorded)
    if (!listedSet.has(x)) problems.push(`primary does not list ${x} of compose_rpms`);
  for (const x of listed)
    if (!recordedSet.has(x)) problems.push(`primary lists ${x}, not in compose_rpms`);
  if (listed.length !== listedSet.size) problems.push("primary lists a package twice");
  for (const p of packages) {
    const file = join(repo, p.location);
    if (!existsSync(file)) continue;
    const bad = await digests.mismatch(file, p.checksumType, p.pkgid);
    if (bad) problems.push(`${p.location} is not byte for byte what primary says: ${bad}`);
  }
  return problems;
}

interface ImagesJson {
  payload?: {
    images?: Record<
      string,
      Record<string, { path: string; size: number; checksums: Record<string, string> }[]>
    >;
  };
}

/** ISO results: each tree arch has its image, as big and with the digest images.json and SHA256SUM give. */
async function isoProblems(
  dir: string,
  arches: readonly string[],
  digests: Digests,
): Promise<string[]> {
  const metaPath = join(dir, "compose", "metadata", "images.json");
  if (!existsSync(metaPath)) return ["the iso result has no compose/metadata/images.json"];
  let meta: ImagesJson;
  try {
    meta = JSON.parse(await readFile(metaPath, "utf8")) as ImagesJson;
  } catch (err) {
    return [`compose/metadata/images.json does not parse: ${(err as Error).message}`];
  }
  const images = Object.values(meta.payload?.images ?? {}).flatMap((byArch) =>
    Object.entries(byArch).flatMap(([arch, list]) => list.map((i) => ({ arch, ...i }))),
  );
  const problems: string[] = [];
  for (const arch of arches)
    if (!images.some((i) => i.arch === arch))
      problems.push(`images.json lists no image of ${arch}`);
  for (const i of images) {
    const file = join(dir, "compose", i.path);
    if (!existsSync(file)) {
      problems.push(`${i.path} named by images.json is missing`);
      continue;
    }
    const size = (await stat(file)).size;
    if (size !== i.size) problems.push(`${i.path} has ${size} bytes, images.json says ${i.size}`);
    const sha256 = i.checksums.sha256 ?? "";
    const bad = await digests.mismatch(file, "sha256", sha256);
    if (bad) problems.push(`${i.path} does not match images.json: ${bad}`);
    const sum = `${file}.SHA256SUM`;
    const name = i.path.split("/").at(-1) ?? "";
    if (!existsSync(sum) || !(await readFile(sum, "utf8")).includes(`SHA256 (${name}) = ${sha256}`))
      problems.push(`${i.path}.SHA256SUM does not give its sha256`);
  }
  return problems;
}

/**
 * Files left under the target dir's staging and removal dirs, published
 * trees no `odcs-<id>` link shows (a stale or crashed worker's, not
 * chosen), and temporary links of a flip: never served, but garbage once
 * all is settled.
 */
export async function leftoverProblems(targetDir: string): Promise<string[]> {
  const problems: string[] = [];
  const published = join(targetDir, ".published");
  for (const name of await namesIn(published)) {
    let shown: string | undefined;
    try {
      shown = await readlink(join(targetDir, name));
    } catch {
      shown = undefined;
    }
    for (const token of await namesIn(join(published, name)))
      if (shown !== join(".published", name, token))
        problems.push(`.published/${name}/${token} is not served: a tree no one chose`);
  }
  for (const name of await namesIn(targetDir))
    if (/^\.odcs-\d+\.link-/.test(name)) problems.push(`${name}: a flip's temporary link`);
  for (const sub of [".staging", ".removing"]) {
    const left = (await namesIn(join(targetDir, sub), { recursive: true })).sort();
    if (left.length > 0) problems.push(`${sub} holds ${left.slice(0, 12).join(", ")}`);
  }
  return problems;
}

/**
 * The names in `dir`, none when it is not there: the soak asks while its
 * processes' sweeps still delete, so a dir listed a moment ago can be gone.
 * A recursive walk meeting a dir deleted under it looks again.
 */
async function namesIn(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  for (let tries = 0; ; tries++) {
    try {
      return (await readdir(dir, { recursive: opts.recursive ?? false })).map(String);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      if (!opts.recursive || !existsSync(dir) || tries >= 5) return [];
    }
  }
}

/** A process's whole output (JSON log lines), and a name for it (its pid, its role). */
export interface ProcessOutput {
  name: string;
  output: string;
}

/**
 * Jobs run to completion more than once: an execution that committed its
 * outcome logs `job done` (src/worker/loop.ts), so two such lines for one
 * job, from any processes, are a double completion. A bare string is a
 * process named by its place in the list.
 */
export function doubleCompletions(outputs: readonly (ProcessOutput | string)[]): string[] {
  const doneBy = new Map<number, string[]>();
  outputs.forEach((p, i) => {
    const { name, output } = typeof p === "string" ? { name: `#${i + 1}`, output: p } : p;
    for (const line of output.split("\n")) {
      if (!line.includes('"job done"')) continue;
      try {
        const j = JSON.parse(line) as { msg: string; job: number };
        if (j.msg === "job done") doneBy.set(j.job, [...(doneBy.get(j.job) ?? []), name]);
      } catch {
        // a line cut short by kill -9
      }
    }
  });
  return [...doneBy]
    .filter(([, by]) => by.length > 1)
    .map(([job, by]) => `job ${job} completed by processes ${by.join(", ")}`);
}
