import { describe, expect, test } from "vitest";
import {
  directEntry,
  type PulpRepoInfo,
  pickNewestProductVersion,
  pulpRepoFileText,
  reduceContentSet,
  tryArchMerge,
} from "../../../src/sources/pulp/reduce.ts";

const repo = (over: Partial<PulpRepoInfo> & { url: string; arch: string }): PulpRepoInfo => ({
  id: over.url.replace(/\W+/g, "_"),
  contentSet: "foo-1",
  sigkeys: ["SIG1", "SIG2"],
  productVersions: "",
  ...over,
});

// The worked example of ODCS's test_pulp.py / test_backend.py (server http://localhost/).
describe("ODCS's reduction of several repos of one content set", () => {
  test("two arches of one URL pattern and keys become one $basearch entry", () => {
    const e = reduceContentSet("foo-1", [
      repo({ url: "http://localhost/content/1/x86_64/os", arch: "x86_64" }),
      repo({ url: "http://localhost/content/1/ppc64le/os", arch: "ppc64le" }),
    ]);
    expect(e).toEqual({
      key: "foo-1",
      kind: "url",
      url: "http://localhost/content/1/$basearch/os",
      arches: ["ppc64le", "x86_64"],
      sigkeys: ["SIG1", "SIG2"],
    });
  });

  test("different keys prevent the arch merge: the repos are merged with mergerepo_c", () => {
    const e = reduceContentSet("foo-1", [
      repo({ url: "http://localhost/content/1/x86_64/os", arch: "x86_64" }),
      repo({ url: "http://localhost/content/1/ppc64le/os", arch: "ppc64le", sigkeys: ["SIG3"] }),
    ]);
    expect(e).toEqual({
      key: "foo-1",
      kind: "merge",
      byArch: {
        x86_64: ["http://localhost/content/1/x86_64/os"],
        ppc64le: ["http://localhost/content/1/ppc64le/os"],
      },
      arches: ["ppc64le", "x86_64"],
      sigkeys: ["SIG1", "SIG2"],
    });
  });

  test("two x86_64 repos without product versions are merged (merged repodata case)", () => {
    const e = reduceContentSet("foo-1", [
      repo({ url: "http://localhost/content/1.1/x86_64/os", arch: "x86_64" }),
      repo({ url: "http://localhost/content/1.0/x86_64/os", arch: "x86_64" }),
    ]);
    expect(e).toMatchObject({
      kind: "merge",
      byArch: {
        x86_64: [
          "http://localhost/content/1.0/x86_64/os",
          "http://localhost/content/1.1/x86_64/os",
        ],
      },
    });
    expect(pulpRepoFileText([e], false, "http://odcs/composes/odcs-1/compose/Temporary")).toBe(
      "\n[foo-1]\nname=foo-1\nbaseurl=http://odcs/composes/odcs-1/compose/Temporary/foo-1/$basearch\nenabled=1\ngpgcheck=0\n",
    );
  });

  test("with one product version each, only the newest repo is kept, no merge", () => {
    const e = reduceContentSet("foo-1", [
      repo({
        url: "http://localhost/content/1.0/x86_64/os",
        arch: "x86_64",
        productVersions: '["1.0"]',
      }),
      repo({
        url: "http://localhost/content/1.1/x86_64/os",
        arch: "x86_64",
        productVersions: '["1.1"]',
      }),
    ]);
    expect(e).toMatchObject({ kind: "url", url: "http://localhost/content/1.1/x86_64/os" });
  });

  test("versions compare as numbers (ODCS compared strings: 7.10 < 7.9)", () => {
    const kept = pickNewestProductVersion([
      repo({ url: "u/7.9", arch: "x86_64", productVersions: '["7.9"]' }),
      repo({ url: "u/7.10", arch: "x86_64", productVersions: '["7.10"]' }),
    ]);
    expect(kept.map((r) => r.url)).toEqual(["u/7.10"]);
  });

  test.each([
    [
      "different arches",
      [
        ['["1.0"]', "x86_64"],
        ['["1.1"]', "ppc64le"],
      ],
    ],
    [
      "two versions in one repo",
      [
        ['["1.0","1.1"]', "x86_64"],
        ['["1.1"]', "x86_64"],
      ],
    ],
    [
      "a version that is not dotted numbers",
      [
        ['["1.0-beta"]', "x86_64"],
        ['["1.1"]', "x86_64"],
      ],
    ],
    [
      "different numbers of dots",
      [
        ['["1.0"]', "x86_64"],
        ['["1.1.1"]', "x86_64"],
      ],
    ],
    [
      "not JSON",
      [
        ["1.0", "x86_64"],
        ['["1.1"]', "x86_64"],
      ],
    ],
  ])("no pick when the versions are not comparable: %s", (_, specs) => {
    const repos = specs.map(([pv, arch], i) =>
      repo({ url: `u/${i}/${arch}`, arch: arch ?? "", productVersions: pv ?? "" }),
    );
    expect(pickNewestProductVersion(repos)).toHaveLength(2);
  });

  test("a single repo is itself; the arch merge needs two", () => {
    const only = repo({
      url: "http://localhost/content/3/ppc64/os",
      arch: "ppc64",
      sigkeys: ["K"],
    });
    expect(tryArchMerge([only])).toBeUndefined();
    expect(reduceContentSet("foo-2", [only])).toEqual({
      key: "foo-2",
      kind: "url",
      url: "http://localhost/content/3/ppc64/os",
      arches: ["ppc64"],
      sigkeys: ["K"],
    });
  });
});

describe("the .repo file", () => {
  const entries = [
    reduceContentSet("foo-2", [
      repo({ url: "http://localhost/content/3/ppc64/os", arch: "ppc64" }),
    ]),
    reduceContentSet("foo-1", [
      repo({ url: "http://localhost/content/1/x86_64/os", arch: "x86_64" }),
      repo({ url: "http://localhost/content/1/ppc64le/os", arch: "ppc64le" }),
    ]),
    directEntry(
      repo({ id: "a-repo-id", url: "http://localhost/content/9/s390x/os", arch: "s390x" }),
    ),
  ];

  test("sections sorted by key, each after a blank line, as ODCS writes them", () => {
    expect(pulpRepoFileText(entries, false, "")).toBe(
      [
        "",
        "[a-repo-id]",
        "name=a-repo-id",
        "baseurl=http://localhost/content/9/s390x/os",
        "enabled=1",
        "gpgcheck=0",
        "",
        "[foo-1]",
        "name=foo-1",
        "baseurl=http://localhost/content/1/$basearch/os",
        "enabled=1",
        "gpgcheck=0",
        "",
        "[foo-2]",
        "name=foo-2",
        "baseurl=http://localhost/content/3/ppc64/os",
        "enabled=1",
        "gpgcheck=0",
        "",
      ].join("\n"),
    );
  });

  test("use_only_compatible_arch: the single arch becomes $basearch, skip_if_unavailable=1", () => {
    expect(pulpRepoFileText(entries, true, "")).toBe(
      "\n[a-repo-id]\nname=a-repo-id\nbaseurl=http://localhost/content/9/$basearch/os\nenabled=1\ngpgcheck=0\nskip_if_unavailable=1\n" +
        "\n[foo-1]\nname=foo-1\nbaseurl=http://localhost/content/1/$basearch/os\nenabled=1\ngpgcheck=0\nskip_if_unavailable=1\n" +
        "\n[foo-2]\nname=foo-2\nbaseurl=http://localhost/content/3/$basearch/os\nenabled=1\ngpgcheck=0\nskip_if_unavailable=1\n",
    );
  });

  test("nothing found: an empty file", () => {
    expect(pulpRepoFileText([], true, "")).toBe("");
  });
});
