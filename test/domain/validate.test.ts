import { describe, expect, it } from "vitest";
import { MAX_DEPTH, ODCS_KEY_GROUPS, validateOdcsInput } from "../../src/domain/validate.ts";

const CHARS = "Only alphanumerical characters";

describe("validateOdcsInput (§7.3)", () => {
  it("takes upstream's key groups from the request schemas", () => {
    const sorted = (keys: Set<string>) => [...keys].sort();
    expect({
      list: sorted(ODCS_KEY_GROUPS.list),
      string: sorted(ODCS_KEY_GROUPS.string),
      int: sorted(ODCS_KEY_GROUPS.int),
    }).toEqual({
      list: [
        "builds",
        "modules",
        "multilib_method",
        "packages",
        "scratch_build_tasks",
        "scratch_modules",
        "sigkeys",
      ],
      string: [
        "base_module_br_name",
        "base_module_br_stream",
        "compose_type",
        "label",
        "target_dir",
        "type",
      ],
      int: [
        "base_module_br_stream_version_gte",
        "base_module_br_stream_version_lte",
        "koji_event",
        "seconds_to_live",
      ],
    });
  });

  it.each([
    [{ source: { type: "repo", source: "/a b-c_d.e:f#g+h?i$j~k" } }],
    [{ label: "ümlaut ñ 日本 ½" }],
    [{ source: { packages: ["a=b", "x&y", "@z", "%"] } }],
    [{ seconds_to_live: true, koji_event: 5 }],
    [{ arches: [], flags: [1.5, false] }],
    [{ "a=b": 1 }],
  ])("accepts %j", (body) => {
    expect(() => validateOdcsInput(body)).not.toThrow();
  });

  it.each([
    [{ label: "a=b" }, CHARS],
    [{ label: "" + "\u0000" }, CHARS],
    [{ source: { builds: ["x;y"] } }, CHARS],
    [{ packages: [["a=b"]] }, CHARS],
    [{ sigkeys: null }, "sigkeys should be a list"],
    [{ type: [] }, "type should be a string"],
    [{ koji_event: "5" }, "koji_event should be an integer"],
    [{ koji_event: 1.5 }, "koji_event should be an integer"],
    [{ other: { a: 1 } }, "Only 'source' key is allowed to contain dict."],
    [{ source: { source: { a: 1 } } }, "Only 'source' key is allowed to contain dict."],
    [{ x: [1, null] }, "but '1' has '<class 'NoneType'>' type"],
  ])("refuses %j", (body, message) => {
    expect(() => validateOdcsInput(body as Record<string, unknown>)).toThrow(message);
  });

  it("bounds the nesting depth", () => {
    let deep: unknown = [];
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];
    expect(() => validateOdcsInput({ arches: deep })).toThrow(
      `nested deeper than ${MAX_DEPTH} levels`,
    );
    let ok: unknown = [];
    for (let i = 0; i < MAX_DEPTH - 2; i++) ok = [ok];
    expect(() => validateOdcsInput({ arches: ok })).not.toThrow();
  });
});
