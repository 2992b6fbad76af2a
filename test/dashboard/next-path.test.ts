import { expect, test } from "vitest";
import { safeNextPath } from "../../src/dashboard/login/next-path.ts";
import { testConfig } from "../helpers/test-app.ts";

test.each([
  [undefined, "/"],
  ["", "/"],
  ["/", "/"],
  ["/composes/7?state=done#log", "/composes/7?state=done#log"],
  ["/queue/../about", "/about"],
  ["//evil.example/x", "/"],
  ["/\\evil.example", "/"],
  ["https://evil.example/", "/"],
  ["javascript:alert(1)", "/"],
  ["evil.example", "/"],
  ["/\t/evil.example", "/"],
  ["/%0a/x", "/%0a/x"],
  ["/\u0000x", "/"],
  ["/login?next=//evil.example", "/"],
  ["/login/callback?code=x", "/"],
  ["/logout", "/"],
])("next=%j → %j (same site only, never back into the login)", (raw, expected) => {
  expect(safeNextPath(raw)).toBe(expected);
});

test("login settings: the session secret is long enough, scopes split on spaces or commas", () => {
  expect(() => testConfig({ ODCS_DASHBOARD_SESSION_SECRET: "short" })).toThrow(
    "invalid setting ODCS_DASHBOARD_SESSION_SECRET: must be at least 32 characters",
  );
  const c = testConfig({ ODCS_OIDC_LOGIN_SCOPES: "openid, email odcs:new-compose" });
  expect(c.ODCS_OIDC_LOGIN_SCOPES).toEqual(["openid", "email", "odcs:new-compose"]);
  expect(c.ODCS_DASHBOARD_SESSION_SECONDS).toBe(28800);
  expect(() => testConfig({ ODCS_DASHBOARD_REDIRECT_URL: "ftp://x" })).toThrow(
    "invalid setting ODCS_DASHBOARD_REDIRECT_URL",
  );
});
