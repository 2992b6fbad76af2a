/** Reading modulemd for resolution: v2 and v1, versions past 2^53, the -devel rewrite (libmodulemd as oracle). */
import { describe, expect, test } from "vitest";
import { ComposeError } from "../../../src/sources/errors.ts";
import { develModulemd, parseModulemd } from "../../../src/sources/module/modulemd.ts";
import { modulemdV2, readModulemd } from "../../helpers/modulemd.ts";

const V1 = `---
document: modulemd
version: 1
data:
  name: old
  stream: "1.0"
  version: 20180101000000
  summary: An old module
  description: A modulemd v1 document.
  license:
    module: [MIT]
  dependencies:
    buildrequires:
      platform: f28
    requires:
      platform: f28
      perl: "5.26"
  components:
    rpms:
      old:
        rationale: The module
  artifacts:
    rpms:
      - old-0:1.0-1.noarch
...
`;

describe("parseModulemd", () => {
  test("v2: identity, every dependencies entry's requires, artifacts sorted; a 19-digit version kept exactly", () => {
    const doc = modulemdV2({
      name: "n",
      stream: "s",
      version: "9223372036854775807",
      context: "abcdef12",
      dependencies: [
        { requires: { platform: ["el8"], a: ["1", "2"] } },
        { requires: { platform: ["el9"], b: [] } },
      ],
      rpms: ["z-0:1-1.noarch", "a-1:2-3.x86_64"],
    });
    expect(parseModulemd(doc, "doc")).toEqual({
      name: "n",
      stream: "s",
      version: "9223372036854775807",
      context: "abcdef12",
      requires: [
        { platform: ["el8"], a: ["1", "2"] },
        { platform: ["el9"], b: [] },
      ],
      rpms: ["a-1:2-3.x86_64", "z-0:1-1.noarch"],
    });
  });

  test("v1: its requires map read as one v2 entry", () => {
    expect(parseModulemd(V1, "v1")).toEqual({
      name: "old",
      stream: "1.0",
      version: "20180101000000",
      context: "",
      requires: [{ platform: ["f28"], perl: ["5.26"] }],
      rpms: ["old-0:1.0-1.noarch"],
    });
  });

  test("not YAML, no modulemd document, another version: a ComposeError naming the document", () => {
    expect(() => parseModulemd("a: [", "the modulemd of x")).toThrow(ComposeError);
    expect(() => parseModulemd("a: [", "the modulemd of x")).toThrow(/^the modulemd of x is not/);
    expect(() => parseModulemd("---\ndocument: modulemd-defaults\nversion: 1\n", "d")).toThrow(
      "d holds no modulemd document",
    );
    expect(() => parseModulemd("---\ndocument: modulemd\nversion: 3\ndata: {}\n", "d")).toThrow(
      "d is modulemd version 3, not 1 or 2",
    );
  });
});

describe("develModulemd", () => {
  test("v2: renamed, each dependencies entry requires the non-devel N:S; valid for libmodulemd", async () => {
    const doc = modulemdV2({
      name: "py",
      stream: "3.9",
      version: "8090020230601000000",
      context: "55555555",
      dependencies: [{ requires: { platform: ["el8"] } }, { requires: { platform: ["el9"] } }],
    });
    const devel = develModulemd(doc, "py", "py-devel", { name: "py", stream: "3.9" });
    expect((await readModulemd(devel)).streams).toEqual([
      {
        nsvc: "py-devel:3.9:8090020230601000000:55555555",
        arch: null,
        rpms: [],
        requires: [
          { platform: ["el8"], py: ["3.9"] },
          { platform: ["el9"], py: ["3.9"] },
        ],
      },
    ]);
  });

  test("no dependencies at all: one entry requiring the non-devel module", async () => {
    const doc = modulemdV2({ name: "x", stream: "1", version: "1", context: "c" });
    const devel = develModulemd(doc, "x", "x-devel", { name: "x", stream: "1" });
    expect(parseModulemd(devel, "d").requires).toEqual([{ x: ["1"] }]);
  });

  test("v1 in, v2 out (upgraded)", async () => {
    const devel = develModulemd(V1, "old", "old-devel", { name: "old", stream: "1.0" });
    expect(parseModulemd(devel, "d")).toMatchObject({
      name: "old-devel",
      requires: [{ platform: ["f28"], perl: ["5.26"], old: ["1.0"] }],
    });
    expect(devel).toMatch(/^---\ndocument: modulemd\nversion: 2\n/);
  });
});
