import { describe, expect, it } from "vitest";
import { checkFlagsSupported } from "../../src/domain/flag-support.ts";
import {
  canonicalJson,
  isCandidate,
  mayReuse,
  missingRequested,
  orderCandidates,
  type ReuseInputs,
  sameInputs,
  samePins,
} from "../../src/domain/reuse.ts";

const inputs: ReuseInputs = {
  sourceType: 3,
  source: "/srv/a /srv/b",
  packages: "wget abcde",
  builds: null,
  sigkeys: "AAAAAAAA BBBBBBBB",
  arches: "x86_64 i686",
  lookasideRepos: "/srv/l",
  multilibArches: "",
  multilibMethod: 0,
  modularKojiTags: null,
  scratchModules: null,
  modules: null,
  scratchBuildTasks: null,
  parentPungiComposeIds: null,
  flags: 0,
  results: 1,
  moduleDefaultsUrl: null,
  respinOf: null,
  targetDir: "default",
  regenerateOf: null,
  kojiEvent: null,
};

describe("sameInputs (§12)", () => {
  it("equal inputs match", () => {
    expect(sameInputs(inputs, { ...inputs })).toBe(true);
  });

  it.each<[string, Partial<ReuseInputs>]>([
    ["packages in another order", { packages: "abcde wget" }],
    ["packages with a duplicate", { packages: "abcde wget wget" }],
    ["arches in another order", { arches: "i686 x86_64" }],
    ["null and empty builds", { builds: "" }],
    ["label is not compared (not an input field)", {}],
  ])("sets compare as sets: %s", (_n, change) => {
    expect(sameInputs({ ...inputs, ...change }, inputs)).toBe(true);
  });

  it.each<[string, Partial<ReuseInputs>]>([
    ["other packages", { packages: "wget" }],
    ["all packages (null) vs some", { packages: null }],
    ["another source", { source: "/srv/a" }],
    ["sources in another order (exact, as ODCS)", { source: "/srv/b /srv/a" }],
    ["sigkeys in another order (the preference order)", { sigkeys: "BBBBBBBB AAAAAAAA" }],
    ["other flags", { flags: 1 }],
    ["other results", { results: 3 }],
    ["another multilib method", { multilibMethod: 1 }],
    ["other multilib arches", { multilibArches: "x86_64" }],
    ["other lookaside repos", { lookasideRepos: "/srv/m" }],
    ["another respin_of", { respinOf: "odcs-1-1-20261121.t.0" }],
    ["a regenerating copy", { regenerateOf: 7 }],
    ["another source type", { sourceType: 1 }],
  ])("differs: %s", (_n, change) => {
    expect(sameInputs({ ...inputs, ...change }, inputs)).toBe(false);
  });

  it("a lower koji_event than the candidate's never reuses it; equal, higher or absent do", () => {
    expect(sameInputs({ ...inputs, kojiEvent: 5 }, { ...inputs, kojiEvent: 6 })).toBe(false);
    expect(sameInputs({ ...inputs, kojiEvent: 6 }, { ...inputs, kojiEvent: 6 })).toBe(true);
    expect(sameInputs({ ...inputs, kojiEvent: 7 }, { ...inputs, kojiEvent: 6 })).toBe(true);
    expect(sameInputs({ ...inputs, kojiEvent: null }, { ...inputs, kojiEvent: 6 })).toBe(true);
  });
});

describe("candidates", () => {
  const now = 1_000_000;
  const o: Parameters<typeof isCandidate>[1] = {
    id: 1,
    state: 2,
    stateReason: "Compose is generated successfully",
    reusedId: null,
    timeToExpire: now,
    removedBy: null,
  };
  it.each<[string, Partial<typeof o>, boolean]>([
    ["a live done compose", {}, true],
    ["a done compose expiring this instant", { timeToExpire: now }, true],
    ["an expired done compose", { timeToExpire: now - 1 }, false],
    ["a done compose an admin asked to remove", { removedBy: "admin" }, false],
    ["a compose that reuses another", { reusedId: 9 }, false],
    ["a newer compose", { id: 5 }, false],
    ["a compose being built", { state: 1, stateReason: "Compose is generating" }, true],
    [
      "a compose before its reuse decision",
      { state: 1, stateReason: "Compose thread started" },
      false,
    ],
    ["a failed compose", { state: 4 }, false],
    ["a removed compose", { state: 3 }, false],
  ])("%s → %s", (_n, change, expected) => {
    expect(isCandidate({ id: 5 }, { ...o, ...change }, now)).toBe(expected);
  });

  it("done candidates newest first, then generating ones oldest first", () => {
    const rows = [
      { id: 1, state: 1 },
      { id: 2, state: 2 },
      { id: 3, state: 1 },
      { id: 4, state: 2 },
    ];
    expect(orderCandidates(rows).map((r) => r.id)).toEqual([4, 2, 1, 3]);
  });

  it("no_reuse forbids reusing", () => {
    expect(mayReuse({ flags: 64 | 1, sourceType: 3 })).toBe(false);
    expect(mayReuse({ flags: 1, sourceType: 3 })).toBe(true);
  });
});

describe("pins", () => {
  it("one canonical text per value, whatever the key order", () => {
    const a = { source: ["/b", "/a"], repomd: { "/b": "sha256:2", "/a": "sha256:1" } };
    const b = { repomd: { "/a": "sha256:1", "/b": "sha256:2" }, source: ["/b", "/a"] };
    expect(canonicalJson(a)).toBe(
      '{"repomd":{"/a":"sha256:1","/b":"sha256:2"},"source":["/b","/a"]}',
    );
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(canonicalJson({ ...a, source: ["/a", "/b"] })).not.toBe(canonicalJson(a));
  });

  it("samePins: stored pins equal to the new ones; none stored never matches", () => {
    const pins = { repomd: { "/a": "sha256:1" } };
    expect(samePins(canonicalJson(pins), { repomd: { "/a": "sha256:1" } })).toBe(true);
    expect(samePins(canonicalJson(pins), { repomd: { "/a": "sha256:2" } })).toBe(false);
    expect(samePins(null, pins)).toBe(false);
  });
});

describe("missingRequested", () => {
  const rpms = [
    { name: "wget", arch: "x86_64" },
    { name: "python3-foo", arch: "noarch" },
  ];
  it("matches names, name.arch and globs; provides count as present", () => {
    expect(
      missingRequested("wget wget.x86_64 python3-* /usr/bin/foo libfoo.so.1()(64bit)", rpms),
    ).toEqual([]);
  });
  it("names what is missing", () => {
    expect(missingRequested("wget abcde wget.i686 perl-*", rpms)).toEqual([
      "abcde",
      "wget.i686",
      "perl-*",
    ]);
  });
  it("all packages (null) misses nothing", () => {
    expect(missingRequested(null, [])).toEqual([]);
  });
});

describe("checkFlagsSupported (every accepted flag acts)", () => {
  it.each(["no_flags", "no_deps", "check_deps", "no_reuse"] as const)("%s acts on repo", (f) => {
    expect(() => checkFlagsSupported("repo", [f])).not.toThrow();
  });
  it.each([
    "no_inheritance",
    "include_unpublished_pulp_repos",
    "include_done_modules",
    "ignore_absent_pulp_repos",
    "use_only_compatible_arch",
  ] as const)("%s is refused for repo, saying it is not supported yet", (f) => {
    expect(() => checkFlagsSupported("repo", ["no_deps", f])).toThrow(
      `Flag "${f}" is not supported yet for source type "repo"`,
    );
  });
});
