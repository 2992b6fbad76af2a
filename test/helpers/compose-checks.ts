/**
 * Whole-service checks on a compose database and its target dir, shared by
 * the fault tests: every compose settled, a published tree exactly what
 * `compose_rpms` says (a failed compose publishes its log only), and each
 * state change recorded by one event.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db/client.ts";
import { listComposeRpms } from "../../src/db/compose-rpms.ts";
import { composes } from "../../src/db/schema.ts";
import { eventChainProblems } from "./events.ts";

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** What is wrong with the published trees under `target`, as lines (empty when all is well). */
export async function treeProblems(db: Db, target: string): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await db.select().from(composes)) {
    const dir = join(target, `odcs-${r.id}`);
    if (r.state === 4) {
      if (existsSync(dir)) {
        const files = readdirSync(dir).filter((f) => f !== "pungi-stderr.log");
        if (files.length > 0)
          problems.push(`compose ${r.id} (failed): published ${files.join(", ")}`);
      }
      continue;
    }
    if (r.state !== 2 || r.reusedId !== null) continue;
    const expected = await listComposeRpms(db, r.id);
    if (expected.length === 0) problems.push(`compose ${r.id}: done with no compose_rpms`);
    const tree = join(dir, "compose", "Temporary");
    const want = new Set(expected.map((x) => join(x.treeArch, "os", x.path)));
    const have = new Set<string>();
    if (existsSync(tree))
      for (const f of readdirSync(tree, { recursive: true }).map(String))
        if (f.endsWith(".rpm") && !f.includes("/iso/")) have.add(f);
    for (const f of want) if (!have.has(f)) problems.push(`compose ${r.id}: ${f} missing`);
    for (const f of have)
      if (!want.has(f)) problems.push(`compose ${r.id}: ${f} not in compose_rpms`);
    for (const x of expected) {
      const file = join(tree, x.treeArch, "os", x.path);
      if (
        x.checksumType === "sha256" &&
        x.checksum &&
        existsSync(file) &&
        sha256(file) !== x.checksum
      )
        problems.push(`compose ${r.id}: ${x.path} differs from its checksum`);
    }
    for (const arch of new Set(expected.map((x) => x.treeArch)))
      if (!existsSync(join(tree, arch, "os", "repodata", "repomd.xml")))
        problems.push(`compose ${r.id}: ${arch} has no repodata`);
    const status = join(dir, "STATUS");
    if (!existsSync(status) || readFileSync(status, "utf8").trim() !== "FINISHED")
      problems.push(`compose ${r.id}: STATUS is not FINISHED`);
  }
  return problems;
}

/** Tree and event problems together. */
export async function serviceProblems(db: Db, target: string): Promise<string[]> {
  return [...(await treeProblems(db, target)), ...(await eventChainProblems(db))];
}

/** "job done" log lines per job over the given process outputs: more than one is a double completion. */
export function doubleCompletions(outputs: readonly string[]): string[] {
  const done = new Map<number, number>();
  for (const out of outputs)
    for (const line of out.split("\n")) {
      if (!line.includes('"job done"')) continue;
      try {
        const j = JSON.parse(line) as { msg: string; job: number };
        if (j.msg === "job done") done.set(j.job, (done.get(j.job) ?? 0) + 1);
      } catch {
        // not a whole JSON line
      }
    }
  return [...done].filter(([, n]) => n > 1).map(([job, n]) => `job ${job} completed ${n} times`);
}
