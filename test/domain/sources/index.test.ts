import { describe, expect, it } from "vitest";
import {
  isSupportedSourceType,
  SUPPORTED_SOURCE_TYPES,
  validateSourceRequest,
} from "../../../src/domain/sources/index.ts";
import type { SourceRequest } from "../../../src/domain/sources/types.ts";

const POLICY = { ODCS_ALLOWED_REPO_ROOTS: ["/srv/repos"], ODCS_ALLOWED_REPO_URLS: [] };
const req = (over: Partial<SourceRequest>): SourceRequest => ({
  sourceTypeName: "repo",
  sourceItems: ["/srv/repos/a"],
  packages: null,
  builds: null,
  kojiEvent: null,
  lookasideRepoList: [],
  ...over,
});

describe("the registry of per-type request checks", () => {
  it("lists the types this server generates; the others are not supported", () => {
    expect(SUPPORTED_SOURCE_TYPES).toEqual(["repo"]);
    expect(isSupportedSourceType("repo")).toBe(true);
    for (const t of ["tag", "build", "module", "pulp", "raw_config", "pungi_compose"] as const)
      expect(isSupportedSourceType(t)).toBe(false);
  });

  it("runs the type's check on the source items", () => {
    expect(() => validateSourceRequest(req({}), POLICY)).not.toThrow();
    expect(() => validateSourceRequest(req({ sourceItems: ["/etc"] }), POLICY)).toThrow(
      'Repository path "/etc" is not under an allowed root (/srv/repos)',
    );
  });

  it("checks lookaside repos whatever the type, each space-separated item", () => {
    expect(() =>
      validateSourceRequest(req({ lookasideRepoList: ["/srv/repos/l /tmp/x"] }), POLICY),
    ).toThrow('Repository path "/tmp/x" is not under an allowed root (/srv/repos)');
  });
});
