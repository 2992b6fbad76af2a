import { beforeAll, describe, expect, test } from "vitest";
import {
  isMultilibCandidate,
  multilibMethodsFromBitmask,
  multilibReason,
  secondaryArches,
} from "../../src/rpm/multilib.ts";
import { readRpmFileRecord } from "../../src/rpm/rpm-file.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { fixturePath, manifestRows } from "../helpers/fixtures.ts";
import { buildRpms, type RpmDescription } from "../helpers/rpmbuild.ts";

const BUILT: RpmDescription[] = [
  { name: "ml-plugin", arch: "i686", files: ["/usr/lib/sasl2/libplain.so"] },
  { name: "ml-pam", arch: "i686", files: ["/lib/security/pam_ml.so"] },
  { name: "ml-qt", arch: "i686", files: ["/usr/lib/qt5/plugins/styles/libml.so"] },
  { name: "ml-ldconf", arch: "i686", files: ["/etc/ld.so.conf.d/ml.conf"] },
  { name: "ml-nss", arch: "i686", files: ["/lib/libnss_ml.so"] },
  { name: "ml-tool", arch: "i686", files: ["/usr/bin/ml-tool", "/usr/share/ml/data"] },
  { name: "ml-tool-devel", arch: "i686", files: ["/usr/include/ml.h", "/usr/lib/libml.so"] },
  { name: "ml-static", arch: "i686", files: ["/usr/lib/libml.a"] },
  { name: "ghc-ml-devel", arch: "i686", files: ["/usr/lib/ghc/ml.hi"] },
  { name: "ml-debuginfo", arch: "i686", files: ["/usr/lib/debug/usr/lib/libml.so.1.debug"] },
  { name: "ml-noarch", files: ["/usr/lib/libfake.so.1"] },
  { name: "httpd", arch: "i686", files: ["/usr/lib/libhttpd.so.1"] },
  { name: "valgrind", arch: "i686", files: ["/usr/bin/valgrind"] },
  { name: "kernel", arch: "i686", provides: ["kernel = 6.1"], files: ["/lib/modules/6.1/x.so.1"] },
  {
    name: "kernel-headers",
    arch: "i686",
    provides: ["kernel-headers-devel"],
    files: ["/usr/include/k.h"],
  },
  { name: "kernel-devel", arch: "i686", provides: ["kernel-devel = 6.1"], files: ["/usr/src/k.h"] },
  { name: "ml-ppc", arch: "ppc", files: ["/usr/lib/libppc.so.2"] },
];

const records = new Map<string, PackageRecord>();
const rec = (name: string) => {
  const r = records.get(name);
  if (!r) throw new Error(`no record ${name}`);
  return r;
};

beforeAll(async () => {
  const built = await buildRpms(BUILT);
  const realPaths = manifestRows()
    .filter(
      (r) =>
        r.kind === "bin" &&
        /centos7-multilib|389-ds-base-devel-1.3.8.4-15.el7.x86_64|RPMS\/hello-2.0-1.i686/.test(
          r.path,
        ),
    )
    .map((r) => fixturePath(r.path));
  const all = await Promise.all(
    [...built.map((b) => b.path), ...realPaths].map((p) => readRpmFileRecord(p)),
  );
  for (const r of all) records.set(`${r.name}.${r.arch}`, r);
});

describe("secondary arches", () => {
  test("x86_64, ppc64 and s390x have multilib arches; others none", () => {
    expect(secondaryArches("x86_64")).toEqual(["athlon", "i686", "i586", "i486", "i386"]);
    expect(secondaryArches("ppc64")).toEqual(["ppc"]);
    expect(secondaryArches("s390x")).toEqual(["s390"]);
    expect(secondaryArches("aarch64")).toEqual([]);
    expect(secondaryArches("ppc64le")).toEqual([]);
  });

  test("ODCS bitmask maps to Pungi methods", () => {
    expect(multilibMethodsFromBitmask(0)).toEqual([]);
    expect(multilibMethodsFromBitmask(3)).toEqual(["runtime", "devel"]);
    expect(multilibMethodsFromBitmask(4)).toEqual(["all"]);
  });
});

describe("multilib candidates on real CentOS 7 pairs", () => {
  test("every i686 library package of the pairs is a runtime candidate", () => {
    const i686 = [...records.values()].filter((r) => r.arch === "i686" && r.vendor === "CentOS");
    expect(i686.map((r) => r.name).sort()).toEqual([
      "expat",
      "libblkid",
      "libcurl",
      "libmount",
      "libsmartcols",
      "libuuid",
    ]);
    for (const r of i686) expect(multilibReason(r, ["runtime"]), r.name).toBe("runtime");
    for (const r of i686) expect(isMultilibCandidate(r, ["none"]), r.name).toBe(false);
  });

  test("hello i686 (a program, no shared library) only with method all", () => {
    const hello = rec("hello.i686");
    expect(isMultilibCandidate(hello, ["runtime", "devel"])).toBe(false);
    expect(multilibReason(hello, ["runtime", "all"])).toBe("all");
  });

  test("a -devel package is a devel candidate but not a runtime one", () => {
    const devel = rec("389-ds-base-devel.x86_64");
    expect(isMultilibCandidate(devel, ["runtime"])).toBe(false);
    expect(multilibReason(devel, ["devel"])).toBe("devel");
  });
});

describe("python-multilib rules on built packages", () => {
  const cases: [string, string[], string | undefined][] = [
    ["ml-plugin.i686", ["runtime"], "runtime"],
    ["ml-pam.i686", ["runtime"], "runtime"],
    ["ml-qt.i686", ["runtime"], "runtime"],
    ["ml-ldconf.i686", ["runtime"], "runtime"],
    ["ml-nss.i686", ["runtime"], "runtime"],
    ["ml-tool.i686", ["runtime", "devel"], undefined],
    ["ml-tool-devel.i686", ["runtime"], undefined],
    ["ml-tool-devel.i686", ["devel"], "devel"],
    ["ml-static.i686", ["devel"], "devel"],
    ["ghc-ml-devel.i686", ["devel"], undefined],
    ["ml-debuginfo.i686", ["all"], undefined],
    ["ml-noarch.noarch", ["all"], undefined],
    ["httpd.i686", ["runtime", "devel"], undefined],
    ["valgrind.i686", ["runtime"], "runtime"],
    ["kernel.i686", ["runtime", "devel"], undefined],
    ["kernel-headers.i686", ["devel"], "devel"],
    ["kernel-devel.i686", ["devel"], undefined],
    ["ml-ppc.ppc", ["runtime"], "runtime"],
  ];
  test.each(cases)("%s with %j → %s", (key, methods, expected) => {
    expect(multilibReason(rec(key), methods as ("runtime" | "devel" | "all")[])).toBe(expected);
  });

  test("config blacklist wins over whitelist and methods; whitelist globs accept", () => {
    const lib = rec("ml-plugin.i686");
    expect(
      multilibReason(lib, ["all"], { blacklist: ["ml-*"], whitelist: ["ml-plugin"] }),
    ).toBeUndefined();
    expect(multilibReason(rec("ml-tool.i686"), [], { whitelist: ["ml-t??l"] })).toBe("whitelist");
  });
});
