/** The test RPM builder itself: two descriptions of one NEVRA in one call stay distinct. */
import { expect, test } from "vitest";
import { readRpmFileHeader } from "../../src/rpm/rpm-file.ts";
import { buildRpms } from "./rpmbuild.ts";

test("two descriptions with the same NEVRA build into separate, correct RPMs", async () => {
  const [a, b] = await buildRpms([
    { name: "same-nevra", summary: "first build", provides: ["cap-first"] },
    { name: "same-nevra", summary: "second build", provides: ["cap-second"] },
  ]);
  expect(a?.path).not.toBe(b?.path);
  const [ha, hb] = await Promise.all([
    readRpmFileHeader(a?.path ?? "", 64 * 1024),
    readRpmFileHeader(b?.path ?? "", 64 * 1024),
  ]);
  expect(ha.summary).toBe("first build");
  expect(hb.summary).toBe("second build");
  expect(ha.provides.map((p) => p.name)).toContain("cap-first");
  expect(hb.provides.map((p) => p.name)).toContain("cap-second");
});
