import { eq } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import type { Deps } from "../../src/api/deps.ts";
import { moveCompose } from "../../src/db/composes.ts";
import { claimNextJob } from "../../src/db/jobs.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import type { Authenticator } from "../../src/domain/identity.ts";
import { DAY_MS, givenCompose, T0 } from "../helpers/given.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";
import { testApp } from "../helpers/test-app.ts";

type T = Awaited<ReturnType<typeof testApp>>;

/** GET a page as a browser would; returns its HTML, status and CSRF cookie + field. */
async function page(t: Pick<T, "request">, path: string, headers: Record<string, string> = {}) {
  const res = await t.request(path, { headers });
  const html = await res.text();
  const cookie = /odcs_csrf=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  const field = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  return { res, html, cookie, field, status: res.status };
}

function post(t: Pick<T, "request">, path: string, form: Record<string, string>, cookie?: string) {
  return t.request(path, {
    method: "POST",
    body: new URLSearchParams(form),
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(cookie ? { Cookie: `odcs_csrf=${cookie}` } : {}),
    },
    redirect: "manual",
  });
}

const rowIds = (html: string) =>
  [...html.matchAll(/<tr data-compose-id="(\d+)"/g)].map((m) => Number(m[1]));

describe("compose list", () => {
  test("filters, search, sort and pagination render from the db readers", async () => {
    const t = await testApp();
    for (let i = 1; i <= 25; i++) {
      await givenCompose(t.db, {
        owner: i % 2 === 0 ? "alice" : "bob",
        state: i % 5 === 0 ? 4 : 2,
        source: `/srv/repos/r${i}`,
        packages: i === 7 ? "bash wget" : "coreutils",
        label: i === 3 ? "nightly" : null,
        sourceType: i === 9 ? 1 : 3,
      });
    }
    const first = await page(t, "/");
    expect(first.status).toBe(200);
    expect(rowIds(first.html)).toEqual([
      25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
    ]);
    expect(first.html).toContain('<span data-testid="total">25</span>');
    expect(first.html).toContain('rel="next"');
    const second = await page(t, "/?per_page=20&page=2");
    expect(rowIds(second.html)).toEqual([5, 4, 3, 2, 1]);
    expect(second.html).toContain('rel="prev"');

    expect(rowIds((await page(t, "/?state=failed")).html)).toEqual([25, 20, 15, 10, 5]);
    expect(rowIds((await page(t, "/?owner=alice&state=failed")).html)).toEqual([20, 10]);
    expect(rowIds((await page(t, "/?source_type=tag")).html)).toEqual([9]);
    expect(rowIds((await page(t, "/?label=nightly")).html)).toEqual([3]);
    expect(rowIds((await page(t, "/?q=wget")).html)).toEqual([7]);
    expect(rowIds((await page(t, "/?q=r1&order_by=id&per_page=10")).html)).toEqual([
      1, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    ]);
    // LIKE wildcards in the search text are literal.
    expect(rowIds((await page(t, "/?q=%25")).html)).toEqual([]);
  });

  test("a bad sort key is a 400 page that says why", async () => {
    const t = await testApp();
    const r = await page(t, "/?order_by=nope");
    expect(r.status).toBe(400);
    expect(r.html).toContain("An invalid order_by key was suplied");
  });

  test("links carry a trusted proxy's X-Script-Name", async () => {
    const t = await testApp({ config: { ODCS_TRUST_PROXY: "true" } });
    await givenCompose(t.db);
    const r = await page(t, "/odcs/", { "X-Script-Name": "/odcs" });
    expect(r.html).toContain('href="/odcs/ui/composes/1"');
    expect(r.html).toContain('href="/odcs/ui/assets/pico.min.css"');
    expect(r.res.headers.get("set-cookie")).toContain("Path=/odcs");
  });
});

describe("compose detail", () => {
  test("a done compose: links, packages, timeline and every field; a failed one shows its reason", async () => {
    const h = await composeHarness();
    const done = await h.run({ source: { type: "repo", source: LIBDNF_REPO, packages: ["wget"] } });
    expect(done.state).toBe(2);
    const r = await page(h, `/ui/composes/${done.id}`);
    expect(r.status).toBe(200);
    expect(r.html).toContain(
      `href="http://localhost/odcs/odcs-${done.id}/compose/Temporary/odcs-${done.id}.repo"`,
    );
    expect(r.html).toContain("/compose/Temporary/x86_64/os/repodata/repomd.xml");
    const rpms = await h.rpms(done.id);
    expect(rpms.length).toBeGreaterThan(0);
    expect(r.html).toContain(`Packages (${rpms.length})`);
    expect(r.html).toContain(`${rpms[0]?.name}-`);
    expect([...r.html.matchAll(/<li data-state="(\w+)"/g)].map((m) => m[1])).toEqual([
      "wait",
      "generating",
      "done",
    ]);
    // The log tail is in the page, read from the published compose.
    expect(r.html).toMatch(/<pre class="log" id="log"[^>]*data-offset="[1-9]\d*"[^>]*>[^<]+/);
    for (const key of [
      "arches",
      "sigkeys",
      "time_to_expire",
      "toplevel_url",
      "pungi_config_dump",
    ]) {
      expect(r.html).toContain(`<dt>${key}</dt>`);
    }
    await h.stopAll();

    const t = await testApp();
    const failed = await givenCompose(t.db, {
      state: 4,
      stateReason: "Cannot read /srv/x: no such file",
    });
    const f = await page(t, `/ui/composes/${failed.id}`);
    expect(f.html).toMatch(
      /<div class="failure" role="alert"><strong>Failed:<\/strong> <span data-field="state_reason">Cannot read \/srv\/x: no such file<\/span>/,
    );
  });

  test("an unknown compose is a 404 page", async () => {
    const t = await testApp();
    expect((await page(t, "/ui/composes/99")).status).toBe(404);
    expect((await page(t, "/ui/composes/abc")).status).toBe(404);
  });
});

describe("actions", () => {
  test("without the CSRF token a POST is a 403 and writes nothing", async () => {
    const t = await testApp();
    const c = await givenCompose(t.db);
    const r = await page(t, `/ui/composes/${c.id}`);
    expect(r.cookie).toBeDefined();
    expect(r.field).toBe(r.cookie);
    const noField = await post(t, `/ui/composes/${c.id}/delete`, {}, r.cookie);
    expect(noField.status).toBe(403);
    expect(await noField.text()).toContain("Nothing was changed");
    const noCookie = await post(t, `/ui/composes/${c.id}/delete`, { _csrf: r.field ?? "" });
    expect(noCookie.status).toBe(403);
    const other = await page(t, "/");
    const mismatch = await post(
      t,
      `/ui/composes/${c.id}/delete`,
      { _csrf: other.cookie ?? "" },
      r.cookie,
    );
    expect(mismatch.status).toBe(403);
    const [row] = await t.db.select().from(composes).where(eq(composes.id, c.id));
    expect(row?.state).toBe(0);
    expect(await t.db.select().from(events)).toEqual([]);
  });

  test("a generating compose has a cancel button that cancels it and ends its running job", async () => {
    const t = await testApp();
    const created = await t.postJson("/api/1/composes/", {
      source: { type: "repo", source: "/srv/repos/a" },
    });
    const { id } = (await created.json()) as { id: number };
    expect(await claimNextJob(t.db, "w1", T0, 30_000)).toMatchObject({ composeId: id });
    expect(await moveCompose(t.db, id, "wait", "generating", T0)).toBe(true);
    const r = await page(t, `/ui/composes/${id}`);
    expect(r.html).toContain("Cancel compose");
    expect(r.html).not.toContain("Delete compose");
    const cancel = await post(t, `/ui/composes/${id}/delete`, { _csrf: r.field ?? "" }, r.cookie);
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get("location")).toBe(`/ui/composes/${id}?notice=canceled`);
    const after = await page(t, cancel.headers.get("location") ?? "");
    expect(after.html).toContain(`Compose ${id} canceled.`);
    expect(after.html).toContain("Canceled by anonymous");
    const [job] = await t.db.select().from(jobs).where(eq(jobs.composeId, id));
    expect(job).toMatchObject({ state: "failed", lastError: "canceled", lockedBy: "w1" });
  });

  test("cancel, renew and regenerate through the forms, as the API would", async () => {
    const t = await testApp();
    const created = await t.postJson("/api/1/composes/", {
      source: { type: "repo", source: "/srv/repos/a" },
    });
    const { id } = (await created.json()) as { id: number };
    const r = await page(t, `/ui/composes/${id}`);
    expect(r.html).toContain("Cancel compose");
    const cancel = await post(t, `/ui/composes/${id}/delete`, { _csrf: r.field ?? "" }, r.cookie);
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get("location")).toBe(`/ui/composes/${id}?notice=canceled`);
    const after = await page(t, cancel.headers.get("location") ?? "");
    expect(after.html).toContain(`Compose ${id} canceled.`);
    expect(after.html).toContain("Canceled by anonymous");
    const [job] = await t.db.select().from(jobs).where(eq(jobs.composeId, id));
    expect(job?.state).toBe("failed");

    // A done compose: renew extends its expiry in place.
    const done = await givenCompose(t.db, { state: 2, timeDone: T0, timeToExpire: T0 + 1000 });
    t.clock.advance(60_000);
    const renew = await post(
      t,
      `/ui/composes/${done.id}/renew`,
      { _csrf: r.field ?? "", seconds_to_live: "7200" },
      r.cookie,
    );
    expect(renew.status).toBe(303);
    expect(renew.headers.get("location")).toBe(`/ui/composes/${done.id}?notice=renewed`);
    const [renewed] = await t.db.select().from(composes).where(eq(composes.id, done.id));
    expect(renewed?.timeToExpire).toBe(T0 + 60_000 + 7_200_000);

    // A removed compose: renew regenerates it as a new compose.
    const removed = await givenCompose(t.db, { state: 3, timeRemoved: T0 });
    const regen = await post(
      t,
      `/ui/composes/${removed.id}/renew`,
      { _csrf: r.field ?? "" },
      r.cookie,
    );
    const location = regen.headers.get("location") ?? "";
    const newId = Number(/composes\/(\d+)\?notice=regenerated$/.exec(location)?.[1]);
    expect(newId).toBeGreaterThan(removed.id);
    expect((await page(t, location)).html).toContain(
      `Compose ${removed.id} is being regenerated as this compose, ${newId}.`,
    );

    // Delete of a done compose marks it for the sweep; renewing a waiting one is the API's 404.
    const del = await post(t, `/ui/composes/${done.id}/delete`, { _csrf: r.field ?? "" }, r.cookie);
    expect(del.headers.get("location")).toBe(`/ui/composes/${done.id}?notice=delete-requested`);
    const bad = await post(t, `/ui/composes/${newId}/renew`, { _csrf: r.field ?? "" }, r.cookie);
    expect(bad.status).toBe(404);
    expect(await bad.text()).toContain(`No compose with id ${newId} found`);
  });

  test("the new-compose form creates a compose; bad input is the API's 400 and writes nothing", async () => {
    const t = await testApp();
    const form = await page(t, "/ui/new");
    expect(form.html).toContain('<option value="repo" selected="">repo</option>');
    expect(form.html).not.toContain('value="tag"');
    const ok = await post(
      t,
      "/ui/new",
      {
        _csrf: form.field ?? "",
        source_type: "repo",
        source: "/srv/repos/a",
        packages: "bash, wget",
        label: "from-form",
        seconds_to_live: "3600",
        flag_no_deps: "on",
      },
      form.cookie,
    );
    expect(ok.status).toBe(303);
    const [row] = await t.db.select().from(composes);
    expect(ok.headers.get("location")).toBe(`/ui/composes/${row?.id}?notice=requested`);
    expect(row).toMatchObject({
      source: "/srv/repos/a",
      packages: "bash wget",
      label: "from-form",
      flags: 1,
    });
    expect(row?.timeToExpire).toBe(T0 + 3_600_000);

    const bad = await post(
      t,
      "/ui/new",
      { _csrf: form.field ?? "", source_type: "repo", source: "relative/path" },
      form.cookie,
    );
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('data-testid="form-error"');
    expect(html).toContain('value="relative/path"');
    expect(await t.db.select().from(composes)).toHaveLength(1);
  });

  test("tag and build are offered once a Koji hub is configured", async () => {
    const t = await testApp({
      config: {
        ODCS_KOJI_HUB_URL: "http://koji.example/kojihub",
        ODCS_KOJI_TOPURL: "http://koji.example/kojifiles",
      },
    });
    const form = await page(t, "/ui/new");
    expect(form.html).toContain('<option value="tag">tag</option>');
    expect(form.html).toContain('<option value="build">build</option>');
  });

  test("under openidc with nobody logged in, actions are hidden and refused", async () => {
    const openidc: Authenticator = {
      backend: "openidc",
      authenticate: async () => {
        throw new Error("not called by the dashboard");
      },
    };
    const t = await testApp({ deps: { auth: openidc } as Partial<Deps> });
    const c = await givenCompose(t.db, { state: 2, timeDone: T0, timeToExpire: T0 + DAY_MS });
    const r = await page(t, `/ui/composes/${c.id}`);
    expect(r.html).toContain("Log in to renew or delete this compose.");
    expect(r.html).not.toContain("/renew");
    expect(r.html).toContain("not logged in");
    expect((await page(t, "/ui/new")).html).toContain("Log in to request a compose.");
    expect(r.field).toBeUndefined();
    const refused = await post(
      t,
      `/ui/composes/${c.id}/delete`,
      { _csrf: r.cookie ?? "" },
      r.cookie,
    );
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(text).toContain("Log in to delete composes.");
    const [row] = await t.db.select().from(composes).where(eq(composes.id, c.id));
    expect(row?.timeToExpire).toBe(T0 + DAY_MS);
  });
});

describe("queue, about, assets", () => {
  test("the queue lists waiting and generating composes with their worker and attempts", async () => {
    const t = await testApp();
    for (const source of ["/srv/repos/a", "/srv/repos/b"]) {
      await t.postJson("/api/1/composes/", { source: { type: "repo", source } });
    }
    await t.db
      .update(jobs)
      .set({ state: "running", lockedBy: "host-a:42", attempts: 2, leaseUntil: T0 + 30_000 })
      .where(eq(jobs.composeId, 1));
    await t.db.update(composes).set({ state: 1, timeStarted: T0 }).where(eq(composes.id, 1));
    t.clock.advance(90_000);
    const r = await page(t, "/ui/queue");
    expect(r.html).toContain(
      '<span data-testid="waiting">1</span> waiting, <span data-testid="running">1</span> generating.',
    );
    expect(rowIds(r.html)).toEqual([1, 2]);
    expect(r.html).toContain("host-a:42");
    expect(r.html).toContain("2 of 3");
    expect(r.html).toContain("1 min 30 s");
  });

  test("about shows what /api/1/about/ publishes", async () => {
    const t = await testApp({
      config: {
        ODCS_SIGKEYS: "A15B79CC,DEADBEEF",
        ODCS_ALLOWED_CLIENTS: JSON.stringify({
          groups: { packagers: { source_types: ["repo"] } },
          users: {},
        }),
      },
    });
    const r = await page(t, "/ui/about");
    expect(r.html).toContain('<dd data-testid="version">test</dd>');
    expect(r.html).toContain('<dd data-testid="auth-backend">noauth</dd>');
    expect(r.html).toContain("A15B79CC, DEADBEEF");
    expect(r.html).toContain("<dt>packagers</dt><dd>source_types: repo</dd>");
    expect(r.html).toContain('href="/api/1/metrics/"');
  });

  test("assets are served with their types; unknown ones are 404", async () => {
    const t = await testApp();
    const css = await t.request("/ui/assets/pico.min.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain("Pico CSS");
    const js = await t.request("/ui/assets/live.js");
    expect(await js.text()).toContain("EventSource");
    expect((await t.request("/ui/assets/nope.js")).status).toBe(404);
  });
});
