import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.ts";
import {
  type ComposeJson,
  freePort,
  LIBDNF_REPO,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * The dashboard login in a real browser (Debian's chromium driven by
 * playwright-core) against the running service (src/main.ts: API + worker)
 * and a real OpenID Provider: the user logs in through the provider's own
 * login and consent pages, sees their name, renews and deletes their own
 * compose, and logs out; forged and missing CSRF tokens are refused.
 */

const AUDIENCE = "https://odcs.test/api";
const ALICE = { preferred_username: "alice", groups: ["packagers"] };

let op: TestOidcProvider;
let svc: ServiceProcess;
let browser: Browser;
let page: Page;
let composeId: number;

beforeAll(async () => {
  const port = await freePort();
  const site = `http://127.0.0.1:${port}`;
  op = await startOidcProvider({
    clients: [{ id: "alice-cli", claims: ALICE }],
    audience: AUDIENCE,
    webClients: [{ id: "dashboard", redirectUris: [`${site}/login/callback`] }],
    users: { alice: ALICE },
  });
  [svc, browser] = await Promise.all([
    startService({
      port,
      env: {
        ODCS_AUTH_BACKEND: "openidc",
        ODCS_OIDC_ISSUER: op.issuer,
        ODCS_OIDC_AUDIENCE: AUDIENCE,
        ODCS_OIDC_CLIENT_ID: "dashboard",
        ODCS_DASHBOARD_SESSION_SECRET: "a-test-secret-of-at-least-32-characters",
        ODCS_ALLOWED_CLIENTS: JSON.stringify({ users: { alice: {} }, groups: {} }),
        ODCS_ADMINS: JSON.stringify({ users: ["alice"], groups: [] }),
      },
    }),
    chromium.launch({ executablePath: "/usr/bin/chromium", headless: true }),
  ]);
  page = await browser.newPage();
  page.setDefaultTimeout(15_000);

  // Alice's compose, requested with her API token and finished by the worker.
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await op.token("alice-cli")}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] },
      flags: ["no_deps"],
    }),
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  composeId = created.id;
  await waitFor(
    async () => {
      const c = (await (
        await fetch(`${svc.url}/api/1/composes/${composeId}`)
      ).json()) as ComposeJson;
      if (c.state_name === "failed") throw new Error(`compose failed: ${c.state_reason}`);
      return c.state_name === "done";
    },
    { timeoutMs: 30_000, intervalMs: 100, what: "alice's compose to be done" },
  );
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await op?.close();
});

const session = async () => (await page.context().cookies()).find((c) => c.name === "odcs_session");

test("log in through the provider's pages, act on one's own compose, log out", async () => {
  const detail = `${svc.url}/ui/composes/${composeId}`;
  await page.goto(detail);
  await expect.poll(() => page.getByTestId("login").textContent()).toBe("Log in");

  await page.getByTestId("login").click();
  await page.waitForURL(`${op.issuer}/interaction/**`);
  await page.locator('input[name="login"]').fill("alice");
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();

  await page.waitForURL(detail);
  expect(await page.getByTestId("user").textContent()).toBe("alice");
  const cookie = await session();
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false, path: "/" });

  await page.getByRole("button", { name: "Renew" }).click();
  await page.waitForURL(`${detail}?notice=renewed`);
  expect(await page.getByRole("status").textContent()).toContain(`Compose ${composeId} renewed`);

  await page.getByRole("button", { name: "Delete compose" }).click();
  await page.waitForURL(`${detail}?notice=delete-requested`);
  expect(await page.getByRole("status").textContent()).toContain("delete request");

  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(`${svc.url}/`);
  expect(await page.getByTestId("login").textContent()).toBe("Log in");
  expect(await session()).toBeUndefined();
});

test("forged or missing CSRF tokens are refused, and nothing changes", async () => {
  // Log in again (the provider remembers the user: its session and grant).
  await page.goto(`${svc.url}/login?next=%2Fui%2Fqueue`);
  await page.waitForURL(`${svc.url}/ui/queue`);
  expect(await page.getByTestId("user").textContent()).toBe("alice");
  const before = await (await fetch(`${svc.url}/api/1/composes/${composeId}`)).json();

  const submit = (action: string, csrf: string | undefined) =>
    page.evaluate(
      ([to, token]) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = to as string;
        if (token !== undefined) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = "_csrf";
          input.value = token;
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      },
      [action, csrf],
    );
  for (const [action, token] of [
    [`/ui/composes/${composeId}/renew`, "forged-token-forged-token-forged-token-abc"],
    [`/ui/composes/${composeId}/renew`, undefined],
    ["/logout", "forged-token-forged-token-forged-token-abc"],
    ["/logout", undefined],
  ] as const) {
    const answer = page.waitForResponse((r) => r.request().method() === "POST");
    await submit(action, token);
    expect((await answer).status(), `${action} with ${token ?? "no token"}`).toBe(403);
    await page.waitForLoadState();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/token/);
  }
  await page.goto(`${svc.url}/ui/queue`);
  expect(await page.getByTestId("user").textContent()).toBe("alice");
  expect(await session()).toBeDefined();
  expect(await (await fetch(`${svc.url}/api/1/composes/${composeId}`)).json()).toEqual(before);
});
