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
  modularKojiTags: null,
  moduleDefaultsUrl: null,
  scratchModules: null,
  scratchBuildTasks: null,
  modules: null,
  baseModuleBrName: null,
  baseModuleBrStream: null,
  baseModuleBrStreamVersionLte: null,
  baseModuleBrStreamVersionGte: null,
  ...over,
});

describe("the registry of per-type request checks", () => {
  it("lists the types this server generates; the others are not supported", () => {
    const all = ["tag", "build", "repo", "module", "pulp", "pungi_compose", "upload"] as const;
    expect(SUPPORTED_SOURCE_TYPES).toEqual(all);
    for (const t of all) expect(isSupportedSourceType(t)).toBe(true);
    for (const t of ["raw_config"] as const) expect(isSupportedSourceType(t)).toBe(false);
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

  it("tag and build: need a Koji hub; lookaside repos are checked as for repo composes", () => {
    const koji = { ...POLICY, ODCS_KOJI_HUB_URL: "https://koji.example.org/kojihub" };
    const tag = req({ sourceTypeName: "tag", sourceItems: ["f40-build"] });
    expect(() => validateSourceRequest(tag, POLICY)).toThrow(
      'Source type "tag" is not supported by this server: no Koji hub is configured (ODCS_KOJI_HUB_URL)',
    );
    expect(() => validateSourceRequest(tag, koji)).not.toThrow();
    expect(() => validateSourceRequest({ ...tag, lookasideRepoList: ["/tmp/x"] }, koji)).toThrow(
      'Repository path "/tmp/x" is not under an allowed root (/srv/repos)',
    );
    const build = req({ sourceTypeName: "build", sourceItems: [], builds: "a-1-1 b-c-2.0-1.fc40" });
    expect(() => validateSourceRequest(build, koji)).not.toThrow();
    expect(() => validateSourceRequest({ ...build, builds: "a-1-1 b-2" }, koji)).toThrow(
      'Invalid NVR "b-2" in builds: expected name-version-release',
    );
  });
});

describe("pulp", () => {
  const PULP = { ...POLICY, ODCS_PULP_URL: "https://pulp.example.com/" };
  const pulp = req({ sourceTypeName: "pulp", sourceItems: ["rhel-7-server-rpms", "a-repo-id"] });

  it("needs a Pulp server", () => {
    expect(() => validateSourceRequest(pulp, POLICY)).toThrow(
      'Source type "pulp" is not supported by this server: no Pulp server is configured (ODCS_PULP_URL)',
    );
    expect(() => validateSourceRequest(pulp, PULP)).not.toThrow();
  });

  it("refuses an empty item and every field that would do nothing", () => {
    expect(() => validateSourceRequest({ ...pulp, sourceItems: ["a", ""] }, PULP)).toThrow(
      "Empty content set or repo id",
    );
    const cases: [Partial<SourceRequest>, string][] = [
      [{ packages: "bash" }, "packages"],
      [{ builds: "a-1-1" }, "builds"],
      [{ kojiEvent: 5 }, "koji_event"],
      [{ lookasideRepoList: ["/srv/repos/l"] }, "lookaside_repos"],
      [{ modules: "m:s" }, "modules"],
    ];
    for (const [over, name] of cases)
      expect(() => validateSourceRequest({ ...pulp, ...over }, PULP)).toThrow(
        `"${name}" does nothing for "pulp" composes (they point at Pulp repositories as published); leave it out`,
      );
  });
});
