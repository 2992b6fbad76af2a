import { describe, expect, it } from "vitest";
import { checkResultsSupported } from "../../src/domain/flag-support.ts";
import { pungiComposeLocation } from "../../src/domain/sources/pungi-compose.ts";

describe("checkResultsSupported", () => {
  it("an ISO needs the compose's own packages: refused for pulp composes only", () => {
    expect(() => checkResultsSupported("pulp", ["repository", "iso"])).toThrow(
      'The "iso" result is not available for "pulp" composes: they only write a .repo file, with no packages of their own',
    );
    expect(() => checkResultsSupported("pulp", ["repository"])).not.toThrow();
    for (const t of ["tag", "build", "repo", "pungi_compose"] as const)
      expect(() => checkResultsSupported(t, ["iso"])).not.toThrow();
  });
});

describe("pungiComposeLocation (compose-metadata.md §6 step 1)", () => {
  it("the variant is the last segment; the metadata is beside it", () => {
    expect(pungiComposeLocation("https://h/c/Fedora-40-20240425.n.0/compose/Server/")).toEqual({
      variantUrl: "https://h/c/Fedora-40-20240425.n.0/compose/Server",
      variant: "Server",
      metadataUrl: "https://h/c/Fedora-40-20240425.n.0/compose/metadata",
    });
  });
});
