import { describe, expect, it } from "vitest";
import {
  deleteComposeRpms,
  insertComposeRpms,
  listComposeRpms,
  recordComposeRpms,
} from "../../src/db/compose-rpms.ts";
import { createComposeWithJob } from "../../src/db/composes.ts";
import { claimNextJob } from "../../src/db/jobs.ts";
import { composeRpms, type NewComposeRpmRow } from "../../src/db/schema.ts";
import { createTestDb } from "../helpers/db.ts";
import { COMPOSE_DEFAULTS, givenCompose, T0 } from "../helpers/given.ts";

const row = (
  composeId: number,
  name: string,
  over: Partial<NewComposeRpmRow> = {},
): NewComposeRpmRow => ({
  composeId,
  treeArch: "x86_64",
  name,
  epoch: "0",
  version: "1.0",
  release: "1.fc40",
  arch: "x86_64",
  sigkey: "a15b79cc",
  checksumType: "sha256",
  checksum: `${name}-sum`,
  sourceRepo: "/srv/repos/a",
  location: `Packages/${name}-1.0-1.fc40.x86_64.rpm`,
  path: `Packages/${name[0]}/${name}-1.0-1.fc40.x86_64.rpm`,
  ...over,
});
const strip = ({ id: _, ...r }: NewComposeRpmRow & { id: number }) => r;
const without = ({ composeId: _, ...r }: NewComposeRpmRow) => r;

describe("insertComposeRpms / listComposeRpms", () => {
  it("stores every row as given, in order, across runs of shared columns", async () => {
    const { db } = await createTestDb();
    const a = await givenCompose(db, { state: 2, timeDone: T0 });
    const b = await givenCompose(db, { state: 2, timeDone: T0 });
    const rows = [
      row(a.id, "bash"),
      row(a.id, "zsh", { sigkey: null, epoch: "2" }),
      row(a.id, "tcsh", { sourceRepo: "https://mirror.example/repo/" }),
      row(a.id, "fish", { treeArch: "aarch64", arch: "noarch" }),
      row(a.id, "dash", { treeArch: "aarch64", checksumType: "sha512" }),
      row(b.id, "ksh", { release: 'quo"te\\s' }),
    ];
    await insertComposeRpms(db, rows);
    expect((await listComposeRpms(db, a.id)).map(strip)).toEqual(rows.slice(0, 5));
    expect((await listComposeRpms(db, b.id)).map(strip)).toEqual(rows.slice(5));
  });

  it("lists nothing for a compose that was never done, whatever is stored", async () => {
    const { db } = await createTestDb();
    const failed = await givenCompose(db, { state: 4 });
    await insertComposeRpms(db, [row(failed.id, "bash")]);
    expect(await listComposeRpms(db, failed.id)).toEqual([]);
    expect(await db.select().from(composeRpms)).toHaveLength(1);
    await deleteComposeRpms(db, failed.id);
    expect(await db.select().from(composeRpms)).toEqual([]);
  });
});

describe("recordComposeRpms", () => {
  async function generating() {
    const t = await createTestDb();
    const c = await createComposeWithJob(t.db, COMPOSE_DEFAULTS, { now: T0, maxAttempts: 3 });
    const job = await claimNextJob(t.db, "w1", T0, 30_000);
    if (!job) throw new Error("no job claimed");
    return { ...t, c, owner: { jobId: job.id, workerId: "w1" } };
  }

  it("replaces what an earlier attempt recorded, under the job's lease", async () => {
    const { db, c, owner } = await generating();
    expect(await recordComposeRpms(db, c.id, [row(c.id, "old")].map(without), owner)).toBe(true);
    const rows = [row(c.id, "bash"), row(c.id, "zsh")];
    expect(await recordComposeRpms(db, c.id, rows.map(without), owner)).toBe(true);
    expect((await db.select().from(composeRpms)).map(strip)).toEqual(rows);
  });

  it("writes nothing, and says so, when another worker holds the job", async () => {
    const { db, c, owner } = await generating();
    await recordComposeRpms(db, c.id, [row(c.id, "mine")].map(without), owner);
    const stale = { ...owner, workerId: "w0" };
    expect(await recordComposeRpms(db, c.id, [row(c.id, "stale")].map(without), stale)).toBe(false);
    expect((await db.select().from(composeRpms)).map((r) => r.name)).toEqual(["mine"]);
  });
});
