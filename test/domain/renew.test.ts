import { describe, expect, it } from "vitest";
import type { ComposeRow } from "../../src/db/schema.ts";
import { needsCopy, parseRenewRequest } from "../../src/domain/renew.ts";

const row = (state: number, sigkeys = "K1 K2") => ({ state, sigkeys }) as ComposeRow;

describe("needsCopy (§8.3)", () => {
  it.each([
    ["done, nothing asked", row(2), {}, false],
    ["done, same sigkeys", row(2), { sigkeys: ["K1", "K2"] }, false],
    ["done, reordered sigkeys", row(2), { sigkeys: ["K2", "K1"] }, true],
    ["done, modules []", row(2), { modules: [] }, true],
    ["done, builds", row(2), { builds: ["b-1-1"] }, true],
    ["failed", row(4), {}, true],
    ["removed", row(3), {}, true],
  ])("%s → %s", (_name, old, req, expected) => {
    expect(needsCopy(old, req)).toBe(expected);
  });
});

describe("parseRenewRequest", () => {
  it("reads sigkeys and source overrides", () => {
    expect(
      parseRenewRequest({
        sigkeys: [],
        source: { modules: ["m"], builds: ["b"] },
        seconds_to_live: 1,
      }),
    ).toEqual({
      sigkeys: [],
      modules: ["m"],
      builds: ["b"],
    });
    expect(parseRenewRequest({})).toEqual({});
  });

  it.each([
    [{ label: "x" }, 'Unknown field "label"'],
    [{ source: { type: "repo" } }, 'Unknown field "type" in source'],
    [{ source: [] }, "source should be an object"],
    [{ sigkeys: [1] }, "sigkeys should be a list of strings"],
  ])("refuses %j", (body, message) => {
    expect(() => parseRenewRequest(body)).toThrow(message);
  });
});
