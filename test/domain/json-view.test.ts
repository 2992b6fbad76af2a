import { describe, expect, it } from "vitest";
import { composeDirName, joinUrl, odcsTime } from "../../src/domain/json-view.ts";

describe("json-view helpers", () => {
  it("odcsTime: UTC, whole seconds (truncated), Z; null stays null", () => {
    expect(odcsTime(Date.parse("2026-11-21T08:00:00.999Z"))).toBe("2026-11-21T08:00:00Z");
    expect(odcsTime(0)).toBe("1970-01-01T00:00:00Z");
    expect(odcsTime(null)).toBeNull();
  });

  it("joinUrl inserts exactly one slash", () => {
    expect(joinUrl("http://h/odcs", "odcs-1")).toBe("http://h/odcs/odcs-1");
    expect(joinUrl("http://h/odcs/", "odcs-1")).toBe("http://h/odcs/odcs-1");
  });

  it("composeDirName names the reused compose, one level", () => {
    expect(composeDirName({ id: 5, reusedId: null })).toBe("odcs-5");
    expect(composeDirName({ id: 5, reusedId: 3 })).toBe("odcs-3");
  });
});
