import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { composeTable, pythonJson } from "../../src/cli/output.ts";
import { formatElapsed, statusText } from "../../src/cli/progress.ts";
import { legacyRequest, moduleRequest, repoRequest } from "../../src/cli/requests.ts";

/** Python's json.dumps(indent=4, sort_keys=True), what ODCS's CLI prints, as the oracle. */
const pythonDumps = (value: unknown) =>
  execFileSync(
    "python3",
    [
      "-c",
      "import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), indent=4, sort_keys=True))",
    ],
    { input: JSON.stringify(value) },
  ).toString();

describe("pythonJson", () => {
  test.each([
    {
      name: "compose-like",
      value: { z: 1, a: [], b: {}, state_reason: null, flags: ["no_deps"], ok: true, n: -3 },
    },
    {
      name: "nested, sorted at every level",
      value: { b: { d: [{ y: 1, x: [1, { q: 2, p: 1 }] }], c: "x" }, A: 0, _u: 2 },
    },
    {
      name: "non-ASCII and control characters",
      value: { m: 'ü 日本 😀 \u007f \u0001 tab\t nl\n "q" back\\slash /' },
    },
    { name: "numbers", value: { f: 1.5, big: 9007199254740991, neg: -0.25 } },
    { name: "a list at the top", value: [{ b: 1, a: 2 }, "x", null] },
  ])("prints exactly what Python prints: $name", ({ value }) => {
    expect(pythonJson(value)).toBe(pythonDumps(value));
  });
});

describe("request bodies of the other create commands", () => {
  test("create (deprecated) = new_compose(): results top-level, falsy options left out", () => {
    expect(
      legacyRequest("tag", "f26", ["bash"], {
        result: ["iso"],
        sigkey: [],
        kojiEvent: 0,
        flag: [],
      }),
    ).toEqual({ source: { source: "f26", type: "tag", packages: ["bash"] }, results: ["iso"] });
  });

  test("create-module: modules space-joined, base module and modular tags inside source", () => {
    expect(
      moduleRequest(["a:1", "b:2"], {
        baseModuleBrName: "platform",
        baseModuleBrStreamVersionLte: 80301,
        modularTag: ["t"],
        arch: ["aarch64"],
      }),
    ).toEqual({
      source: {
        source: "a:1 b:2",
        type: "module",
        base_module_br_name: "platform",
        base_module_br_stream_version_lte: 80301,
        modular_koji_tags: ["t"],
      },
      arches: ["aarch64"],
    });
  });

  test("create-repo: multilib fields top-level", () => {
    expect(
      repoRequest(["/srv/a", "/srv/b"], [], {
        multilibArch: ["i686"],
        multilibMethod: ["devel"],
        lookasideRepo: ["/srv/l"],
      }),
    ).toEqual({
      source: { source: "/srv/a /srv/b", type: "repo" },
      lookaside_repos: ["/srv/l"],
      multilib_arches: ["i686"],
      multilib_method: ["devel"],
    });
  });
});

describe("what is shown while waiting", () => {
  test("status line text and elapsed time", () => {
    expect(statusText(7, "wait", 12_400, { place: 2, waiting: 5 })).toBe(
      "compose 7: wait · 12s · place 2 of 5 in the queue",
    );
    expect(statusText(7, "wait", 0, { place: undefined, waiting: 300 })).toBe(
      "compose 7: wait · 0s · 300 composes waiting",
    );
    expect(statusText(7, "generating", 61_000, { place: 1, waiting: 1 })).toBe(
      "compose 7: generating · 1m01s",
    );
    expect(formatElapsed(3_725_000)).toBe("1h02m");
  });

  test("list table: columns padded, long sources cut", () => {
    const row = {
      id: 12,
      state_name: "done",
      source_type: 3,
      owner: "unknown",
      source: `/srv/${"x".repeat(80)}`,
      time_submitted: "2026-11-21T05:24:58Z",
      time_to_expire: null,
    };
    const [head, line] = composeTable([row]).split("\n");
    expect(head).toBe(`ID  STATE  TYPE  OWNER    SUBMITTED             EXPIRES  SOURCE`);
    expect(line).toBe(
      `12  done   repo  unknown  2026-11-21T05:24:58Z  -        /srv/${"x".repeat(54)}…`,
    );
  });
});
