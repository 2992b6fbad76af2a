import { base64url, decodeJwt } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createAuthenticator } from "../../src/api/auth.ts";
import { moveCompose } from "../../src/db/composes.ts";
import {
  startOidcProvider,
  type TestClientSpec,
  type TestOidcProvider,
} from "../helpers/oidc-provider.ts";
import { testApp, testConfig } from "../helpers/test-app.ts";

/**
 * The write routes with the openidc backend: real tokens from a real
 * OpenID Provider, the real app over a fresh database. Every refusal must
 * leave the database as it was.
 */

const CLIENTS: TestClientSpec[] = [
  { id: "alice", claims: { preferred_username: "alice", groups: ["packagers"] } },
  { id: "bob", claims: { preferred_username: "bob", groups: ["tag-only"] } },
  { id: "carol", claims: { preferred_username: "carol", groups: ["outsiders"] } },
  { id: "root", claims: { preferred_username: "root", groups: [] } },
  { id: "ops", claims: { preferred_username: "ops", groups: ["odcs-admins"] } },
];

const AUDIENCE = "https://odcs.test/api";
const scope = (short: string) => `https://pagure.io/odcs/${short}`;
const REPO_COMPOSE = { source: { type: "repo", source: "/srv/repos/f40", packages: ["bash"] } };

let op: TestOidcProvider;
const tokens = new Map<string, string>();
beforeAll(async () => {
  op = await startOidcProvider({ clients: CLIENTS, audience: AUDIENCE });
  for (const { id } of CLIENTS) tokens.set(id, await op.token(id));
  tokens.set("alice-new-only", await op.token("alice", { scope: [scope("new-compose")] }));
  tokens.set("alice-delete-only", await op.token("alice", { scope: [scope("delete-compose")] }));
  tokens.set("alice-wrong-aud", await op.token("alice", { resource: "https://elsewhere.test" }));
});
afterAll(() => op.close());

function bearer(name: string): Record<string, string> {
  const token = tokens.get(name);
  if (token === undefined) throw new Error(`no token ${name}`);
  return { Authorization: `Bearer ${token}` };
}

function tampered(): Record<string, string> {
  const token = tokens.get("carol") ?? "";
  const [header, , signature] = token.split(".");
  const payload = base64url.encode(
    JSON.stringify({ ...decodeJwt(token), preferred_username: "root" }),
  );
  return { Authorization: `Bearer ${header}.${payload}.${signature}` };
}

let t: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  const settings = {
    ODCS_AUTH_BACKEND: "openidc",
    ODCS_OIDC_ISSUER: op.issuer,
    ODCS_OIDC_AUDIENCE: op.audience,
    ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
    ODCS_ALLOWED_CLIENTS: {
      users: { alice: {}, root: { source_types: ["tag"] } },
      groups: { "tag-only": { source_types: ["tag"] } },
    },
    ODCS_ADMINS: { users: ["root"], groups: ["odcs-admins"] },
  };
  t = await testApp({
    config: settings,
    deps: { auth: createAuthenticator(testConfig(settings)) },
  });
});

const post = (headers: Record<string, string>) =>
  t.postJson("/api/1/composes/", REPO_COMPOSE, headers);
const patch = (id: number, headers: Record<string, string>) =>
  t.request(`/api/1/composes/${id}`, { method: "PATCH", headers });
const del = (id: number, headers: Record<string, string>) =>
  t.request(`/api/1/composes/${id}`, { method: "DELETE", headers });

async function composeIds(): Promise<number[]> {
  const res = await t.request("/api/1/composes/?per_page=100");
  const body = (await res.json()) as { items: { id: number }[]; meta: { total: number } };
  expect(body.meta.total).toBe(body.items.length);
  return body.items.map((c) => c.id);
}

async function getCompose(id: number): Promise<Record<string, unknown>> {
  const res = await t.request(`/api/1/composes/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** A compose of alice's, created through the API; moved on to `generating` or `done` when asked. */
async function alicesCompose(state: "wait" | "generating" | "done" = "wait"): Promise<number> {
  const res = await post(bearer("alice"));
  expect(res.status).toBe(200);
  const { id, owner } = (await res.json()) as { id: number; owner: string };
  expect(owner).toBe("alice");
  const now = t.clock.now().getTime();
  if (state !== "wait") await moveCompose(t.db, id, "wait", "generating", now);
  if (state === "done") await moveCompose(t.db, id, "generating", "done", now);
  return id;
}

const odcsError = (status: number, message: string) => ({
  status,
  error: status === 401 ? "Unauthorized" : "Forbidden",
  message,
});

/** Send a write and check the exact ODCS error, that nothing was written, and no WWW-Authenticate. */
async function expectRefused(
  send: () => Response | Promise<Response>,
  status: number,
  message: string,
) {
  const idsBefore = await composeIds();
  const composesBefore = await Promise.all(idsBefore.map(getCompose));
  const res = await send();
  expect(await res.json()).toEqual(odcsError(status, message));
  expect(res.status).toBe(status);
  expect(res.headers.get("WWW-Authenticate")).toBeNull();
  expect(await composeIds()).toEqual(idsBefore);
  expect(await Promise.all(idsBefore.map(getCompose))).toEqual(composesBefore);
}

type Route = "POST" | "PATCH" | "DELETE";
const send = (route: Route, id: number, headers: Record<string, string>) =>
  route === "POST" ? post(headers) : route === "PATCH" ? patch(id, headers) : del(id, headers);
const ROUTES: Route[] = ["POST", "PATCH", "DELETE"];

describe("401 for a missing or bad token", () => {
  const cases: [string, () => Record<string, string>, string][] = [
    ["no Authorization header", () => ({}), "Missing token passed to ODCS."],
    ["empty bearer", () => ({ Authorization: "Bearer " }), "Missing token passed to ODCS."],
    [
      "not a JWT",
      () => ({ Authorization: "Bearer abc.def" }),
      "Token is malformed: Invalid Compact JWS",
    ],
    ["tampered payload", tampered, "Token signature is invalid"],
    [
      "wrong audience",
      () => bearer("alice-wrong-aud"),
      `Token audience does not include ${AUDIENCE}`,
    ],
  ];
  for (const route of ROUTES) {
    test.each(cases)(`${route}: %s`, async (_name, headers, message) => {
      const id = await alicesCompose("done");
      await expectRefused(() => send(route, id, headers()), 401, message);
    });
  }
});

describe("403 before anything is written", () => {
  test.each([
    ["POST", "alice-delete-only", "new-compose"],
    ["PATCH", "alice-new-only", "renew-compose"],
    ["DELETE", "alice-new-only", "delete-compose"],
  ] as const)("%s with a token lacking the scope", async (route, token, short) => {
    const id = await alicesCompose("done");
    await expectRefused(
      () => send(route, id, bearer(token)),
      403,
      `Request does not have required scope ${short}`,
    );
  });

  test.each(["POST", "PATCH"] as const)("%s by a user outside allowed_clients", async (route) => {
    const id = await alicesCompose("done");
    await expectRefused(
      () => send(route, id, bearer("carol")),
      403,
      "User carol is not in role allowed_clients.",
    );
  });

  test("an admin who is not an allowed client cannot create", async () => {
    await expectRefused(() => post(bearer("ops")), 403, "User ops is not in role allowed_clients.");
  });

  test("a group entry restricting source types refuses a repo compose", async () => {
    await expectRefused(
      () => post(bearer("bob")),
      403,
      "User bob not allowed to operate with compose with source_types=repo.",
    );
  });

  test("a non-admin may not delete, even their own compose", async () => {
    const id = await alicesCompose("done");
    await expectRefused(() => del(id, bearer("alice")), 403, "User alice is not in role admins.");
  });

  test("a non-owner may not cancel a waiting compose", async () => {
    const id = await alicesCompose("wait");
    await expectRefused(
      () => del(id, bearer("bob")),
      403,
      `Compose (id=${id}) can not be canceled, it's owned by someone else.`,
    );
    expect((await getCompose(id)).state_name).toBe("wait");
  });

  test("a non-owner may not cancel a generating compose", async () => {
    const id = await alicesCompose("generating");
    await expectRefused(
      () => del(id, bearer("bob")),
      403,
      `Compose (id=${id}) can not be canceled, it's owned by someone else.`,
    );
    expect((await getCompose(id)).state_name).toBe("generating");
  });
});

describe("allowed requests", () => {
  test("an allowed client creates a compose owned by the token's user", async () => {
    expect(await composeIds()).toEqual([]);
    const id = await alicesCompose("wait");
    expect(await composeIds()).toEqual([id]);
  });

  test("an admin bypasses the per-attribute permissions", async () => {
    const res = await post(bearer("root"));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { owner: string }).owner).toBe("root");
  });

  test("the owner cancels their waiting compose", async () => {
    const id = await alicesCompose("wait");
    const res = await del(id, bearer("alice"));
    expect(await res.json()).toEqual({
      status: 202,
      message: `Compose (id=${id}) has been canceled`,
    });
    expect(res.status).toBe(202);
    expect(await getCompose(id)).toMatchObject({
      state_name: "failed",
      state_reason: "Canceled by alice",
    });
  });

  test("the owner cancels their generating compose (unlike upstream, which answers 400)", async () => {
    const id = await alicesCompose("generating");
    const res = await del(id, bearer("alice"));
    expect(await res.json()).toEqual({
      status: 202,
      message: `Compose (id=${id}) has been canceled`,
    });
    expect(await getCompose(id)).toMatchObject({
      state_name: "failed",
      state_reason: "Canceled by alice",
    });
  });

  test("an admin cancels someone else's generating compose", async () => {
    const id = await alicesCompose("generating");
    const res = await del(id, bearer("ops"));
    expect(res.status).toBe(202);
    expect(await getCompose(id)).toMatchObject({ state_reason: "Canceled by ops" });
  });

  test("an admin cancels someone else's waiting compose", async () => {
    const id = await alicesCompose("wait");
    const res = await del(id, bearer("ops"));
    expect(res.status).toBe(202);
    expect(await getCompose(id)).toMatchObject({ state_reason: "Canceled by ops" });
  });

  test("an admin deletes someone else's done compose", async () => {
    const id = await alicesCompose("done");
    const res = await del(id, bearer("root"));
    expect(await res.json()).toEqual({
      status: 202,
      message: `The delete request for compose (id=${id}) has been accepted and will be processed by backend later.`,
    });
    expect((await getCompose(id)).removed_by).toBe("root");
  });

  test("an allowed client renews a done compose", async () => {
    const id = await alicesCompose("done");
    const res = await patch(id, bearer("alice"));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: number }).id).toBe(id);
  });

  test("about reports the openidc backend and the allowed clients", async () => {
    const body = (await (await t.request("/api/1/about/")).json()) as Record<string, unknown>;
    expect(body.auth_backend).toBe("openidc");
    expect(body.allowed_clients).toEqual({
      groups: { "tag-only": { source_types: ["tag"] } },
      users: { alice: {}, root: { source_types: ["tag"] } },
    });
  });
});
