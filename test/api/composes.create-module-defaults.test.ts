/**
 * POST of `module` composes naming module defaults: `module_defaults_url`
 * must be an https, http or file URL under a prefix of
 * ODCS_ALLOWED_GIT_URLS, else a 400 and nothing written.
 */
import { describe, expect, it } from "vitest";
import { countRows, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const CONFIG = {
  ODCS_KOJI_HUB_URL: "https://koji.example.org/kojihub",
  ODCS_KOJI_TOPURL: "https://kojipkgs.example.org/",
  ODCS_MBS_URL: "https://mbs.example.org/module-build-service",
};

const body = (url: string) => ({
  source: {
    type: "module",
    source: "nodejs:18",
    module_defaults_url: url,
    module_defaults_commit: "main",
  },
});

describe("module_defaults_url", () => {
  it("is refused when the server allows no git URLs", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", body("https://git.example.org/defaults.git"));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      odcsError(
        400,
        '"module_defaults_url" https://git.example.org/defaults.git is not allowed: this server fetches no git repositories (ODCS_ALLOWED_GIT_URLS is empty)',
      ),
    );
    expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  });

  it.each([
    "https://git.example.org/other/defaults.git",
    "ssh://git.example.org/modules/defaults.git",
    "file:///etc/passwd",
    "https://git.example.org/modules/../secret.git",
  ])("refuses %s outside the allowed prefixes", async (url) => {
    const t = await testApp({
      config: {
        ...CONFIG,
        ODCS_ALLOWED_GIT_URLS: "https://git.example.org/modules/,file:///srv/git",
      },
    });
    const res = await t.postJson("/api/1/composes/", body(url));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^"module_defaults_url" .* is not allowed: not an https, http or file URL under a prefix of ODCS_ALLOWED_GIT_URLS$/,
    );
    expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  });

  it.each(["https://git.example.org/modules/defaults.git", "file:///srv/git/defaults"])(
    "accepts %s under an allowed prefix, stored with the commit",
    async (url) => {
      const t = await testApp({
        config: {
          ...CONFIG,
          ODCS_ALLOWED_GIT_URLS: "https://git.example.org/modules/,file:///srv/git",
        },
      });
      const res = await t.postJson("/api/1/composes/", body(url));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { module_defaults_url: string }).module_defaults_url).toBe(
        `${url} main`,
      );
    },
  );
});
