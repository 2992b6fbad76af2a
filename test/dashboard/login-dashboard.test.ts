import { afterAll, beforeAll, expect, test } from "vitest";
import { createAuthenticator } from "../../src/api/auth.ts";
import { givenCompose } from "../helpers/given.ts";
import { startOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.ts";
import { testApp, testConfig } from "../helpers/test-app.ts";

/**
 * The login plugged into the dashboard (the full app): the header offers
 * "Log in", a logged-in user sees their name and "Log out", and what the
 * user may do through the dashboard's forms is what the API lets the same
 * user's token do.
 */

const SITE = "http://odcs.test";
const AUDIENCE = "https://odcs.test/api";
const USERS = {
  alice: { preferred_username: "alice", groups: ["packagers"] },
  ops: { preferred_username: "ops", groups: ["odcs-admins"] },
};

let op: TestOidcProvider;
beforeAll(async () => {
  op = await startOidcProvider({
    clients: Object.entries(USERS).map(([name, claims]) => ({ id: `${name}-cli`, claims })),
    audience: AUDIENCE,
    webClients: [{ id: "dashboard", redirectUris: [`${SITE}/login/callback`] }],
    users: USERS,
  });
});
afterAll(() => op.close());

async function setup() {
  const settings = {
    ODCS_AUTH_BACKEND: "openidc",
    ODCS_OIDC_ISSUER: op.issuer,
    ODCS_OIDC_AUDIENCE: AUDIENCE,
    ODCS_OIDC_CLIENT_ID: "dashboard",
    // No secret: a per-process key, so this also shows that the routes and
    // the dashboard's actor share one login.
    ODCS_ALLOWED_CLIENTS: { users: {}, groups: { packagers: {}, "odcs-admins": {} } },
    ODCS_ADMINS: { users: [], groups: ["odcs-admins"] },
  };
  const t: Awaited<ReturnType<typeof testApp>> = await testApp({
    config: settings,
    deps: { auth: createAuthenticator(testConfig(settings), { clock: () => t.clock.now() }) },
  });
  // Tokens from the provider carry the real time.
  t.clock.set(new Date());
  return t;
}

type App = Awaited<ReturnType<typeof setup>>;

/** One browser: a cookie jar over the in-process app. */
function browser(t: App) {
  const jar = new Map<string, string>();
  const go = async (path: string, init: RequestInit = {}) => {
    const res = await t.app.request(new URL(path, SITE).href, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value === "" || /Max-Age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const html = async (path: string) => (await go(path)).text();
  const submit = async (path: string, page: string, fields: Record<string, string> = {}) => {
    // A page without forms (nothing allowed) still set the token cookie.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? jar.get("odcs_csrf") ?? "";
    return go(path, {
      method: "POST",
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
  };
  const logIn = async (user: string, next: string) => {
    const start = await go(`/login?next=${encodeURIComponent(next)}`);
    const res = await go(await op.browserLogin(start.headers.get("location") ?? "", user));
    expect(res.status).toBe(303);
    return res.headers.get("location");
  };
  return { go, html, submit, logIn, jar };
}

const text = (s: string) => s.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

test("the header offers Log in, then shows the user and Log out, which ends the session", async () => {
  const t = await setup();
  const b = browser(t);
  const anonymous = await b.html("/ui/queue");
  expect(anonymous).toContain(`<a href="/login?next=%2Fui%2Fqueue" data-testid="login">Log in</a>`);
  expect(await b.logIn("alice", "/ui/queue")).toBe("/ui/queue");
  const page = await b.html("/ui/queue");
  expect(page).toContain('<span class="user" data-testid="user">alice</span>');
  expect(page).toMatch(
    /<form method="post" action="\/logout"[^>]*><input type="hidden" name="_csrf"/,
  );
  expect(page).not.toContain("Log in</a>");

  const out = await b.submit("/logout", page);
  expect(out.status).toBe(303);
  expect(await b.html("/")).toContain('data-testid="login">Log in</a>');
});

test("the dashboard user may do what the API lets the same user's token do", async () => {
  const t = await setup();
  const now = t.clock.now().getTime();
  const done = (owner: string) =>
    givenCompose(t.db, { owner, state: 2, timeSubmitted: now, timeToExpire: now + 3_600_000 });

  // What the API says to each user's bearer token.
  const api = async (user: string, method: string, id: number) => {
    const res = await t.request(`/api/1/composes/${id}`, {
      method,
      headers: {
        Authorization: `Bearer ${await op.token(`${user}-cli`)}`,
        "content-type": "application/json",
      },
      ...(method === "PATCH" ? { body: "{}" } : {}),
    });
    return { status: res.status, message: ((await res.json()) as { message?: string }).message };
  };
  const a = await done("alice");
  const b = await done("alice");
  const viaApi = {
    aliceDelete: await api("alice", "DELETE", a.id),
    aliceRenew: await api("alice", "PATCH", a.id),
  };
  expect(viaApi.aliceDelete.status).toBe(403);
  expect(viaApi.aliceRenew.status).toBe(200);

  const alice = browser(t);
  await alice.logIn("alice", "/");
  const detail = await alice.html(`/ui/composes/${b.id}`);
  const del = await alice.submit(`/ui/composes/${b.id}/delete`, detail);
  expect(del.status).toBe(403);
  expect(text(await del.text())).toContain(viaApi.aliceDelete.message);
  const renew = await alice.submit(`/ui/composes/${b.id}/renew`, detail);
  expect(renew.status).toBe(303);
  expect(renew.headers.get("location")).toBe(`/ui/composes/${b.id}?notice=renewed`);

  const ops = browser(t);
  await ops.logIn("ops", "/");
  const opsDetail = await ops.html(`/ui/composes/${b.id}`);
  expect(opsDetail).toContain('data-testid="user">ops</span>');
  const opsDel = await ops.submit(`/ui/composes/${b.id}/delete`, opsDetail);
  expect(opsDel.status).toBe(303);
  expect(opsDel.headers.get("location")).toBe(`/ui/composes/${b.id}?notice=delete-requested`);
  expect((await api("ops", "DELETE", a.id)).status).toBe(202);

  // Without a session the forms are refused, as the API refuses a request without a token.
  const nobody = browser(t);
  const anon = await nobody.html(`/ui/composes/${b.id}`);
  const refused = await nobody.submit(`/ui/composes/${b.id}/renew`, anon);
  expect(refused.status).toBe(403);
  expect(text(await refused.text())).toContain("Log in to renew composes.");
});
