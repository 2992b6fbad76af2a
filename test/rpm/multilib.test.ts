import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import {
  isMultilibCandidate,
  type MultilibLists,
  multilibListsFor,
  multilibMethodsFromBitmask,
  multilibReason,
  secondaryArches,
} from "../../src/rpm/multilib.ts";
import { type Repodata, readRepodata } from "../../src/rpm/repodata-read.ts";
import { readRpmFileRecord } from "../../src/rpm/rpm-file.ts";
import { nevraOf, selectPackages } from "../../src/rpm/select.ts";
import type { PackageRecord } from "../../src/rpm/types.ts";
import { tempDir } from "../helpers/db.ts";
import { fixturePath, manifestRows } from "../helpers/fixtures.ts";
import { buildRpms, createRepo, type RpmDescription } from "../helpers/rpmbuild.ts";

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

describe("configured black/whitelists per tree arch", () => {
  test('an arch gets its own globs plus the "*" ones', () => {
    const black = { "*": ["kernel*"], x86_64: ["httpd*"], ppc64: ["ppc-only"] };
    const white = { s390x: ["wine"] };
    expect(multilibListsFor("x86_64", black, white)).toEqual({
      blacklist: ["kernel*", "httpd*"],
      whitelist: [],
    });
    expect(multilibListsFor("s390x", black, white)).toEqual({
      blacklist: ["kernel*"],
      whitelist: ["wine"],
    });
  });
});

/**
 * Real CentOS 7 pairs (x86_64 + i686 of the same NEVR) and rpm's hello pair
 * (a program: no method but `all` takes its i686 build) in one repository.
 */
describe("selectPackages with black/whitelists on real multilib pairs", () => {
  let repo: Repodata;
  beforeAll(async () => {
    const pairs = manifestRows()
      .filter((r) => r.kind === "bin" && /centos7-multilib\//.test(r.path))
      .map((r) => fixturePath(r.path));
    const hello = ["x86_64", "i686"].map((a) =>
      fixturePath(`rpms/rpm-org/tests/data/RPMS/hello-2.0-1.${a}.rpm`),
    );
    const dir = await createRepo(tempDir("odcs-multilib-"), [...pairs, ...hello]);
    repo = await readRepodata((p) => readFile(join(dir, p)), { filelists: true });
  });

  const select = (packages: string[], lists?: MultilibLists) =>
    selectPackages({
      repos: [repo],
      lookaside: [],
      packages,
      arch: "x86_64",
      noDeps: false,
      multilibArches: ["x86_64"],
      multilibMethods: ["runtime"],
      sigkeys: null,
      ...(lists ? { multilibLists: lists } : {}),
    })
      .packages.map((p) => nevraOf(p.pkg))
      .filter((n) => n.endsWith(".i686"))
      .sort();

  test("runtime alone: the i686 libraries of the selected ones, not hello", () => {
    expect(select(["expat", "libsmartcols", "hello"])).toEqual([
      "expat-2.1.0-12.el7.i686",
      "libsmartcols-2.23.2-65.el7.i686",
    ]);
  });

  test("a blacklisted name is not added; a whitelisted one is, next to its native package", () => {
    const lists = multilibListsFor("x86_64", { x86_64: ["exp*"] }, { "*": ["hello", "libuuid"] });
    // libuuid is whitelisted, but no libuuid.x86_64 is in the result: nothing to pair it with.
    expect(select(["expat", "libsmartcols", "hello"], lists)).toEqual([
      "hello-2.0-1.i686",
      "libsmartcols-2.23.2-65.el7.i686",
    ]);
  });

  test("the blacklist wins over the whitelist", () => {
    const lists = { blacklist: ["libsmartcols"], whitelist: ["libsmartcols"] };
    expect(select(["libsmartcols"], lists)).toEqual([]);
  });

  test("the lists apply to the multilib step only: a dependency of an added i686 still comes", () => {
    // libblkid.i686 needs libuuid.so.1, which only libuuid.i686 provides.
    const lists = { blacklist: ["libuuid"] };
    expect(select(["libblkid"], lists)).toEqual([
      "libblkid-2.23.2-65.el7.i686",
      "libuuid-2.23.2-65.el7.i686",
    ]);
    // libuuid.x86_64 is a dependency of libblkid.x86_64, so its own i686 is a candidate too.
    expect(select(["libblkid"], { blacklist: ["libblkid"] })).toEqual([
      "libuuid-2.23.2-65.el7.i686",
    ]);
  });
});
