import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import {
  findNevra,
  formatNevra,
  formatNvr,
  NevraParseError,
  parseNevra,
} from "../../src/rpm/nevra.ts";

/** productmd's regex, run by Python's `re` (the semantics parse_nvra has). */
async function pythonParse(inputs: string[]): Promise<(Record<string, string | number> | null)[]> {
  const script = `
import json, re, sys
R = re.compile(r"^(.*/)?(?P<name>.*)-((?P<epoch>\\d+):)?(?P<version>.*)-(?P<release>.*)\\.(?P<arch>.*)$")
out = []
for s in json.load(sys.stdin):
    if s.endswith(".rpm"):
        s = s[:-4]
    m = R.match(s)
    if not m:
        out.append(None)
        continue
    d = m.groupdict()
    d.pop(None, None)
    d["epoch"] = int(d["epoch"] or 0)
    out.append(d)
print(json.dumps(out))
`;
  const child = promisify(execFile)("/usr/bin/python3", ["-c", script], { maxBuffer: 64 << 20 });
  child.child.stdin?.end(JSON.stringify(inputs));
  return JSON.parse((await child).stdout);
}

describe("NEVRA parse/format (productmd parse_nvra)", () => {
  test("reference examples", () => {
    expect(parseNevra("python3-foo-bar-1:1.0-1.el8.noarch")).toEqual({
      name: "python3-foo-bar",
      epoch: 1,
      version: "1.0",
      release: "1.el8",
      arch: "noarch",
    });
    expect(parseNevra("Server/x86_64/os/Packages/b/bash-4.3.30-2.fc21.x86_64.rpm")).toEqual({
      name: "bash",
      epoch: 0,
      version: "4.3.30",
      release: "2.fc21",
      arch: "x86_64",
    });
    expect(() => parseNevra("bash-5.2.x86_64")).toThrow(NevraParseError);
    expect(() => parseNevra("bash-5-2")).toThrow(NevraParseError);
    expect(findNevra("nope")).toBeUndefined();
  });

  test("format is name-epoch:version-release.arch and round-trips", () => {
    const n = { name: "bash", epoch: undefined, version: "5.2.26", release: "1.fc40", arch: "src" };
    expect(formatNevra(n)).toBe("bash-0:5.2.26-1.fc40.src");
    expect(formatNevra({ ...n, epoch: "3" })).toBe("bash-3:5.2.26-1.fc40.src");
    expect(formatNvr(n)).toBe("bash-5.2.26-1.fc40");
    expect(parseNevra(formatNevra({ ...n, epoch: 3 }))).toEqual({ ...n, epoch: 3 });
  });

  test("2000 generated strings parse exactly like Python's re with productmd's pattern", async () => {
    const parts = [
      "a",
      "foo",
      "-",
      "-",
      "1",
      ":",
      "2:",
      ".",
      ".x86_64",
      "el9",
      "/",
      "~",
      "0",
      ".rpm",
    ];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const inputs = Array.from({ length: 2000 }, () =>
      Array.from(
        { length: 2 + Math.floor(rnd() * 9) },
        () => parts[Math.floor(rnd() * parts.length)],
      ).join(""),
    );
    const expected = await pythonParse(inputs);
    const ours = inputs.map((s) => findNevra(s) ?? null);
    expect(ours).toEqual(expected);
    expect(expected.filter((e) => e !== null).length).toBeGreaterThan(100);
  });
});
