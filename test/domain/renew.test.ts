import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ComposeRow } from "../../src/db/schema.ts";
import { composes } from "../../src/db/schema.ts";
import { copyForRenewal, needsCopy, parseRenewRequest } from "../../src/domain/renew.ts";

const row = (state: number, sigkeys = "K1 K2") => ({ state, sigkeys }) as ComposeRow;

describe("needsCopy (§8.3)", () => {
  it.each([
    ["done, nothing asked", row(2), {}, false],
    ["done, same sigkeys", row(2), { sigkeys: ["K1", "K2"] }, false],
    ["done, reordered sigkeys", row(2), { sigkeys: ["K2", "K1"] }, true],
    ["done, modules []", row(2), { modules: [] }, true],
    ["done, builds", row(2), { builds: ["b-1-1"] }, true],
    ["failed", row(4), {}, true],
    ["removed", row(3), {}, true],
  ])("%s → %s", (_name, old, req, expected) => {
    expect(needsCopy(old, req)).toBe(expected);
  });
});

describe("parseRenewRequest", () => {
  it("reads sigkeys and source overrides", () => {
    expect(
      parseRenewRequest({
        sigkeys: [],
        source: { modules: ["m"], builds: ["b"] },
        seconds_to_live: 1,
      }),
    ).toEqual({
      sigkeys: [],
      modules: ["m"],
      builds: ["b"],
    });
    expect(parseRenewRequest({})).toEqual({});
  });

  it.each([
    [{ label: "x" }, 'Unknown field "label"'],
    [{ source: { type: "repo" } }, 'Unknown field "type" in source'],
    [{ source: [] }, "source should be an object"],
    [{ sigkeys: [1] }, "sigkeys should be a list of strings"],
  ])("refuses %j", (body, message) => {
    expect(() => parseRenewRequest(body)).toThrow(message);
  });
});

describe("copyForRenewal (§8.3)", () => {
  // Every column of the old row set, each to a value of its own.
  const old = Object.fromEntries(
    Object.entries(getTableColumns(composes)).map(([key, col], i) => [
      key,
      col.dataType === "number" ? 1000 + i : `old-${key}`,
    ]),
  ) as unknown as ComposeRow;

  it("copies the request's columns §8.3 lists and our pins; every outcome of the old compose starts empty", () => {
    const copy = copyForRenewal(old, {}, "bob", 5_000, 60);
    const copied = [
      "sourceType",
      "source",
      "results",
      "packages",
      "builds",
      "flags",
      "kojiEvent",
      "sigkeys",
      "arches",
      "multilibArches",
      "multilibMethod",
      "lookasideRepos",
      "modularKojiTags",
      "moduleDefaultsUrl",
      "label",
      "composeType",
      "pungiConfigDump",
      "targetDir",
      "scratchModules",
      "parentPungiComposeIds",
      "scratchBuildTasks",
      "modules",
      "baseModuleBrName",
      "baseModuleBrStream",
      "baseModuleBrStreamVersionLte",
      "baseModuleBrStreamVersionGte",
      "sourcePins",
    ] as const;
    expect(copy).toEqual({
      ...Object.fromEntries(copied.map((k) => [k, old[k]])),
      owner: "bob",
      timeSubmitted: 5_000,
      timeToExpire: 65_000,
      respinOf: old.pungiComposeId,
      regenerateOf: old.id,
    });
    // Not carried: the old compose's state, times, outcome and choice of tree.
    for (const k of [
      "stateReason",
      "timeStarted",
      "timeDone",
      "timeRemoved",
      "removedBy",
      "kojiTaskId",
      "pungiComposeId",
      "reusedId",
      "publishedAttempt",
    ] as const)
      expect(copy[k], k).toBeUndefined();
  });

  it("takes the PATCH's sigkeys, and its modules and builds when they are not empty", () => {
    const copy = copyForRenewal(
      old,
      { sigkeys: [], modules: [], builds: ["b-1-1", "c-2-2"] },
      "bob",
      0,
      1,
    );
    expect([copy.sigkeys, copy.modules, copy.builds]).toEqual(["", old.modules, "b-1-1 c-2-2"]);
  });
});
