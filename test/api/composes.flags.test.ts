/**
 * Every flag a POST accepts acts on the compose's source type; the others
 * are refused with a 400 saying they are not supported yet, and nothing is
 * written.
 */
import { describe, expect, it } from "vitest";
import { countRows, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const CONFIG = { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" };
const REPO = { type: "repo", source: "/srv/repos/a" };

describe("POST flags on a repo compose", () => {
  it.each([
    "no_inheritance",
    "include_unpublished_pulp_repos",
    "include_done_modules",
    "ignore_absent_pulp_repos",
    "use_only_compatible_arch",
  ])("%s: 400, not supported yet, no row", async (flag) => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", { source: REPO, flags: ["no_deps", flag] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      odcsError(400, `Flag "${flag}" is not supported yet for source type "repo"`),
    );
    expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  });

  it("no_flags, no_deps, check_deps and no_reuse are accepted and stored", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: REPO,
      flags: ["no_flags", "no_deps", "check_deps", "no_reuse"],
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { flags: string[] }).flags).toEqual([
      "no_deps",
      "check_deps",
      "no_reuse",
    ]);
  });
});
