/**
 * What must hold after any crash once the service has recovered, as lines
 * naming each violation (empty when all is well), and the means to stop a
 * process at a crash point (`ODCS_TEST_CRASH_AT`, src/crash-points.ts).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CrashPoint } from "../../src/crash-points.ts";
import type { Db } from "../../src/db/client.ts";
import { listComposeRpms } from "../../src/db/compose-rpms.ts";
import { composes, jobs } from "../../src/db/schema.ts";
import { FINAL_STATES } from "../../src/domain/transitions.ts";
import { parseRepomd } from "../../src/rpm/repodata-parse.ts";
import { readRepodata } from "../../src/rpm/repodata-read.ts";
import { eventChainProblems } from "./events.ts";
import type { ServiceProcess } from "./service.ts";
import { waitFor } from "./wait.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The process's state letter in /proc (T: stopped), or undefined once it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Wait until `proc` has stopped itself at `point` (logged, then SIGSTOP). */
export async function stoppedAt(
  proc: ServiceProcess,
  point: CrashPoint,
  timeoutMs = 20_000,
): Promise<void> {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error("no pid");
  await waitFor(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`exited:\n${proc.output()}`);
      return proc.output().includes(`crash point ${point} reached`) && procState(pid) === "T";
    },
    { timeoutMs, intervalMs: 10, what: `the process to stop at ${point}` },
  );
}

/**
 * The published tree of a done compose is exactly its compose_rpms: every
 * RPM there with the recorded checksum (byte for byte), no other RPM,
 * repodata whose every file matches repomd.xml and whose primary lists
 * exactly those packages, STATUS FINISHED. A failed compose publishes its
 * log only; a removed one nothing (unless a live compose reuses it).
 */
export async function treeProblems(db: Db, targetDir: string): Promise<string[]> {
  const problems: string[] = [];
  const rows = await db.select().from(composes);
  for (const r of rows) {
    const dir = join(targetDir, `odcs-${r.id}`);
    const what = `compose ${r.id} (state ${r.state})`;
    if (r.state === 4) {
      if (existsSync(dir)) {
        const extra = (await readdir(dir)).filter((f) => f !== "pungi-stderr.log");
        if (extra.length > 0) problems.push(`${what}: failed, but publishes ${extra.join(", ")}`);
      }
      continue;
    }
    if (r.state === 3) {
      const reused = rows.some((o) => o.reusedId === r.id && o.state !== 3);
      if (!reused && existsSync(dir)) problems.push(`${what}: removed, but ${dir} exists`);
      continue;
    }
    if (r.state !== 2 || r.reusedId !== null) continue;
    const expected = await listComposeRpms(db, r.id);
    if (expected.length === 0) problems.push(`${what}: done with no compose_rpms`);
    const status = existsSync(join(dir, "STATUS"))
      ? readFileSync(join(dir, "STATUS"), "utf8").trim()
      : "absent";
    if (status !== "FINISHED") problems.push(`${what}: STATUS is ${status}`);
    const tree = join(dir, "compose", "Temporary");
    const have = existsSync(tree)
      ? (await readdir(tree, { recursive: true })).map(String).filter((f) => f.endsWith(".rpm"))
      : [];
    const want = expected.map((x) => join(x.treeArch, "os", x.path));
    for (const f of want) if (!have.includes(f)) problems.push(`${what}: ${f} missing`);
    for (const f of have) if (!want.includes(f)) problems.push(`${what}: ${f} not in compose_rpms`);
    for (const x of expected) {
      const file = join(tree, x.treeArch, "os", x.path);
      if (existsSync(file) && sha256(await readFile(file)) !== x.checksum)
        problems.push(`${what}: ${x.path} is not byte for byte the RPM recorded`);
    }
    for (const arch of new Set(expected.map((x) => x.treeArch))) {
      const repo = join(tree, arch, "os");
      problems.push(
        ...(
          await repodataProblems(
            repo,
            expected.filter((x) => x.treeArch === arch).map((x) => x.path),
          )
        ).map((p) => `${what}: ${arch}: ${p}`),
      );
    }
  }
  return problems;
}

async function repodataProblems(repo: string, paths: readonly string[]): Promise<string[]> {
  const repomdPath = join(repo, "repodata", "repomd.xml");
  if (!existsSync(repomdPath)) return ["no repodata/repomd.xml"];
  const problems: string[] = [];
  const repomd = parseRepomd(await readFile(repomdPath, "utf8"));
  for (const d of repomd.data) {
    const file = join(repo, d.location);
    if (!existsSync(file)) problems.push(`${d.location} named by repomd.xml is missing`);
    else if (d.checksumType === "sha256" && sha256(await readFile(file)) !== d.checksum)
      problems.push(`${d.location} does not match its repomd.xml checksum`);
  }
  const data = await readRepodata((rel) => readFile(join(repo, rel)), {
    filelists: true,
    other: true,
  });
  const listed = data.packages.map((p) => p.location).sort();
  const want = [...paths].sort();
  if (JSON.stringify(listed) !== JSON.stringify(want))
    problems.push(`primary lists ${listed.join(" ")}, compose_rpms ${want.join(" ")}`);
  return problems;
}

/** Files left under the target dir's staging and removal dirs. */
export async function leftoverProblems(targetDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const sub of [".staging", ".removing"]) {
    const dir = join(targetDir, sub);
    if (!existsSync(dir)) continue;
    const left = (await readdir(dir, { recursive: true })).map(String).sort();
    if (left.length > 0) problems.push(`${sub} holds ${left.slice(0, 12).join(", ")}`);
  }
  return problems;
}

/** Composes not final, jobs still live, broken event chains. */
export async function stateProblems(db: Db): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await db.select().from(composes))
    if (!FINAL_STATES.includes(r.state)) problems.push(`compose ${r.id}: state ${r.state}`);
  for (const j of await db.select().from(jobs))
    if (j.state === "queued" || j.state === "running")
      problems.push(`job ${j.id}: still ${j.state}`);
  return [...problems, ...(await eventChainProblems(db))];
}

/** Jobs that two processes logged "job done" for (process outputs, JSON lines). */
export function doubleCompletions(outputs: readonly string[]): string[] {
  const by = new Map<number, number>();
  for (const out of outputs)
    for (const line of out.split("\n")) {
      if (!line.includes('"job done"')) continue;
      try {
        const j = JSON.parse(line) as { msg: string; job: number };
        if (j.msg === "job done") by.set(j.job, (by.get(j.job) ?? 0) + 1);
      } catch {
        // a line cut short by kill -9
      }
    }
  return [...by].filter(([, n]) => n > 1).map(([job, n]) => `job ${job} completed ${n} times`);
}
