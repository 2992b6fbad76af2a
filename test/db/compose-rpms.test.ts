import { describe, expect, it } from "vitest";
import { insertComposeRpms, listComposeRpms } from "../../src/db/compose-rpms.ts";
import type { NewComposeRpmRow } from "../../src/db/schema.ts";
import { createTestDb } from "../helpers/db.ts";
import { givenCompose } from "../helpers/given.ts";

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

describe("insertComposeRpms", () => {
  it("stores every row as given, in order, across runs of shared columns", async () => {
    const { db } = await createTestDb();
    const a = await givenCompose(db);
    const b = await givenCompose(db);
    const rows = [
      row(a.id, "bash"),
      row(a.id, "zsh", { sigkey: null, epoch: "2" }),
      row(a.id, "tcsh", { sourceRepo: "https://mirror.example/repo/" }),
      row(a.id, "fish", { treeArch: "aarch64", arch: "noarch" }),
      row(a.id, "dash", { treeArch: "aarch64", checksumType: "sha512" }),
      row(b.id, "ksh", { name: "ksh", release: 'quo"te\\s' }),
    ];
    await insertComposeRpms(db, rows);
    const strip = ({ id: _, ...r }: NewComposeRpmRow & { id: number }) => r;
    expect((await listComposeRpms(db, a.id)).map(strip)).toEqual(rows.slice(0, 5));
    expect((await listComposeRpms(db, b.id)).map(strip)).toEqual(rows.slice(5));
  });

  it("writes nothing for no rows", async () => {
    const { db } = await createTestDb();
    const a = await givenCompose(db);
    await insertComposeRpms(db, []);
    expect(await listComposeRpms(db, a.id)).toEqual([]);
  });
});
