/**
 * modulemd documents and modules.yaml (reference/modules.md §4–§5), checked
 * with libmodulemd itself: `modulemd-validator` and `Modulemd.ModuleIndex`
 * (python3-gi + gir1.2-modulemd-2.0) read what we write.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import {
  archArtifacts,
  archModulemdText,
  defaultsDocuments,
  type ModuleStreamDoc,
  modulemdArtifacts,
  modulesYaml,
  parseNevra,
} from "../../src/rpm/modulemd.ts";
import { tempDir } from "../helpers/db.ts";
import { modulemdDoc, readWithLibmodulemd } from "../helpers/modulemd.ts";

const run = promisify(execFile);

async function validate(text: string): Promise<void> {
  const path = join(tempDir("odcs-modulemd-"), "modules.yaml");
  await writeFile(path, text);
  await run("modulemd-validator", [path]);
}

const general: ModuleStreamDoc = {
  nsvc: "mm:1:20240101000000:abcdef12",
  modulemd: modulemdDoc({
    name: "mm",
    stream: "1",
    version: "20240101000000",
    context: "abcdef12",
    rpms: [
      "mm-app-0:1.0-1.module_el8.x86_64",
      "mm-app-0:1.0-1.module_el8.aarch64",
      "mm-app-0:1.0-1.module_el8.src",
      "mm-lib-1:2.0-1.module_el8.noarch",
    ],
  }),
};

describe("modulemd", () => {
  test("parseNevra reads n-e:v-r.a and n-v-r.a; rejects what is not one", () => {
    expect(parseNevra("mm-lib-1:2.0-1.module_el8.noarch")).toEqual({
      name: "mm-lib",
      epoch: "1",
      version: "2.0",
      release: "1.module_el8",
      arch: "noarch",
    });
    expect(parseNevra("bash-5.2-1.fc40.x86_64")).toMatchObject({ name: "bash", epoch: "0" });
    expect(parseNevra("nodash")).toBeUndefined();
  });

  test("without an arch document: arch set, artifacts cut to the arch's RPMs and noarch (sources kept)", async () => {
    const text = archModulemdText(general, "x86_64");
    expect(modulemdArtifacts(text)).toEqual([
      "mm-app-0:1.0-1.module_el8.x86_64",
      "mm-app-0:1.0-1.module_el8.src",
      "mm-lib-1:2.0-1.module_el8.noarch",
    ]);
    expect(archArtifacts(general, "aarch64")).toEqual([
      "mm-app-0:1.0-1.module_el8.aarch64",
      "mm-lib-1:2.0-1.module_el8.noarch",
    ]);
    const read = await readWithLibmodulemd(text);
    expect(read.streams).toEqual([
      {
        nsvc: general.nsvc,
        arch: "x86_64",
        rpms: [
          "mm-app-0:1.0-1.module_el8.src",
          "mm-app-0:1.0-1.module_el8.x86_64",
          "mm-lib-1:2.0-1.module_el8.noarch",
        ],
      },
    ]);
  });

  test("an arch document from the build system is used verbatim", () => {
    const x86 = modulemdDoc({
      name: "mm",
      stream: "1",
      version: "20240101000000",
      context: "abcdef12",
      arch: "x86_64",
      rpms: ["only-0:1-1.x86_64"],
    });
    expect(archModulemdText({ ...general, archModulemd: { x86_64: x86 } }, "x86_64")).toBe(x86);
    expect(() =>
      archModulemdText({ ...general, archModulemd: { x86_64: "document: nope\n" } }, "x86_64"),
    ).toThrow(/not a modulemd version 2 \(or 1\) document/);
  });

  test("modules.yaml: streams sorted by NSVC, then the defaults of modules in it; libmodulemd and modulemd-validator accept it", async () => {
    const other: ModuleStreamDoc = {
      nsvc: "aa:2:1:00000000",
      modulemd: modulemdDoc({
        name: "aa",
        stream: "2",
        version: "1",
        context: "00000000",
        rpms: ["aa-0:1-1.noarch"],
      }),
    };
    const defaults = defaultsDocuments(
      [
        "---",
        "document: modulemd-defaults",
        "version: 1",
        "data:",
        "  module: mm",
        "  stream: '1'",
        "  profiles:",
        "    '1': [default]",
        "...",
        "---",
        "document: modulemd-defaults",
        "version: 1",
        "data:",
        "  module: notincompose",
        "  stream: x",
        "...",
        "---",
        "document: modulemd-translations",
        "version: 1",
        "data: {module: mm, stream: '1', modified: 1}",
        "...",
      ].join("\n"),
    );
    expect(defaults.map((d) => d.module)).toEqual(["mm", "notincompose"]);
    const text = modulesYaml([general, other], defaults, "x86_64");
    expect(text.match(/^---$/gm)).toHaveLength(3);
    expect(text.match(/^\.\.\.$/gm)).toHaveLength(3);
    expect(text.indexOf("name: aa")).toBeLessThan(text.indexOf("name: mm"));
    expect(text).not.toContain("notincompose");
    await validate(text);
    const read = await readWithLibmodulemd(text);
    expect(read.streams.map((s) => `${s.nsvc} ${s.arch}`)).toEqual([
      "aa:2:1:00000000 x86_64",
      "mm:1:20240101000000:abcdef12 x86_64",
    ]);
    expect(read.defaults).toEqual({ mm: "1" });
  });
});
