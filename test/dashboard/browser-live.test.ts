import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { launchBrowser } from "../helpers/browser.ts";
import {
  type ComposeJson,
  LIBDNF_REPO,
  postCompose,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * The dashboard in a real browser against the real service (src/main.ts:
 * API + worker + sweep) generating real composes from a yum repo served
 * over HTTP, which can hold the worker mid-compose.
 */

let svc: ServiceProcess;
let srv: Awaited<ReturnType<typeof repoServer>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const create = (body: Record<string, unknown>) => postCompose(svc.url, body);

async function stateOf(id: number): Promise<string> {
  const res = await fetch(`${svc.url}/api/1/composes/${id}`);
  return ((await res.json()) as ComposeJson).state_name;
}

const settled = (id: number, state = "done") =>
  waitFor(
    async () => {
      const now = await stateOf(id);
      if (now !== state && ["done", "failed", "removed"].includes(now)) {
        const json = await (await fetch(`${svc.url}/api/1/composes/${id}`)).json();
        throw new Error(`compose ${id} is ${now}: ${JSON.stringify(json)}`);
      }
      return now === state || undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `compose ${id} to be ${state}` },
  );

/** Marks the document; still there later means the page was never reloaded. */
const mark = (p: Page) => p.evaluate(() => Object.assign(window, { __odcsMark: 1 }));
const isSameDocument = (p: Page) =>
  p.evaluate(() => (window as { __odcsMark?: number }).__odcsMark === 1);

let done: ComposeJson;
let failed: ComposeJson;

beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
  [svc, browser] = await Promise.all([
    startService({ env: { ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_WORKER_CONCURRENCY: "1" } }),
    launchBrowser(),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  done = await create({
    source: { type: "repo", source: srv.url, packages: ["wget"] },
    label: "first",
  });
  await settled(done.id);
  // Same request again: reused at once; twelve of them make two pages of ten.
  for (let i = 0; i < 11; i++) {
    await create({ source: { type: "repo", source: srv.url, packages: ["wget"] }, label: "bulk" });
  }
  failed = await create({
    source: { type: "repo", source: `${srv.url}/no-such-repo`, packages: ["wget"] },
  });
  await settled(failed.id, "failed");
  await waitFor(
    async () => {
      const res = await fetch(`${svc.url}/api/1/composes/?state=done&per_page=1`);
      return ((await res.json()) as { meta: { total: number } }).meta.total === 12 || undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: "the bulk composes to be done" },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await srv?.close();
});

describe("list", () => {
  test("filters, search and pagination", async () => {
    await page.goto(`${svc.url}/?per_page=10`);
    const ids = () =>
      page
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.composeId)));
    expect(await page.getByTestId("total").textContent()).toBe("13");
    expect(await ids()).toHaveLength(10);
    await page.getByRole("link", { name: "Next page →" }).click();
    await page.waitForURL(/page=2/);
    expect(await ids()).toHaveLength(3);
    await page.getByRole("link", { name: "← Previous page" }).click();
    await page.waitForURL(/page=1/);

    await page.getByLabel("State", { exact: true }).selectOption("failed");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/state=failed/);
    expect(await ids()).toEqual([failed.id]);
    await expect.poll(() => page.locator("tbody .state").first().textContent()).toBe("failed");

    await page.getByLabel("State", { exact: true }).selectOption("");
    await page.getByLabel("Label", { exact: true }).fill("first");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/label=first/);
    expect(await ids()).toEqual([done.id]);

    await page.getByLabel("Label", { exact: true }).fill("");
    await page.getByLabel("Search source or packages").fill("no-such-repo");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/q=no-such-repo/);
    expect(await ids()).toEqual([failed.id]);
  });
});

describe("detail", () => {
  test("a done compose: state, links, packages, timeline; a failed one: its reason", async () => {
    await page.goto(`${svc.url}/?label=first`);
    await page.getByRole("link", { name: `Compose ${done.id}`, exact: true }).click();
    await page.waitForURL(new RegExp(`/ui/composes/${done.id}$`));
    expect(await page.locator("h1 .state").textContent()).toBe("done");
    const repofile = page.getByRole("link", { name: ".repo file" });
    expect(await repofile.getAttribute("href")).toBe(done.result_repofile);
    const res = await fetch(done.result_repofile);
    expect(await res.text()).toContain(`[odcs-${done.id}]`);
    await page.getByText("Show the package list").click();
    await expect.poll(() => page.getByRole("cell", { name: /^wget-/ }).count()).toBe(1);
    expect(
      await page
        .locator('[data-testid="timeline"] li')
        .evaluateAll((li) => li.map((l) => (l as HTMLElement).dataset.state)),
    ).toEqual(["wait", "generating", "done"]);
    expect(await page.locator("#log").textContent()).toMatch(/attempt 1 on worker/);

    await page.goto(`${svc.url}/ui/composes/${failed.id}`);
    const alert = page.locator(".failure");
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.textContent()).toMatch(/Failed:.*no-such-repo/);
  });
});

describe("live updates", () => {
  test("a compose's row and page update when it finishes, and its log is followed, without reload", async () => {
    const heldBefore = srv.held;
    srv.hold(/repomd\.xml$/, 1);
    const c = await create({
      source: { type: "repo", source: srv.url, packages: ["wget"] },
      flags: ["no_reuse"],
    });
    await waitFor(() => srv.held === heldBefore + 1 || undefined, {
      what: "the worker to fetch repomd",
    });
    const list = await context.newPage();
    await list.goto(`${svc.url}/`);
    await page.goto(`${svc.url}/ui/composes/${c.id}`);
    await Promise.all([mark(page), mark(list)]);
    const row = list.locator(`tr[data-compose-id="${c.id}"] .state`);
    expect(await row.textContent()).not.toBe("done");
    expect(await page.locator("h1 .state").textContent()).toBe("generating");
    // The log so far is in the page; the script follows it from there.
    await expect.poll(() => page.locator("#log").textContent()).toMatch(/pinning source/);
    await Promise.all([
      page.waitForFunction(() => document.body.dataset.live === "stream"),
      list.waitForFunction(() => document.body.dataset.live === "stream"),
    ]);
    // Keep the <pre> the page was served with: the follower appends to it.
    await page.evaluate(() => Object.assign(window, { __odcsLog: document.getElementById("log") }));
    srv.release();
    await settled(c.id);
    await expect
      .poll(() => page.locator("h1 .state").textContent(), { timeout: 15_000 })
      .toBe("done");
    await expect
      .poll(() =>
        page.evaluate(() => (window as { __odcsLog?: HTMLElement }).__odcsLog?.textContent ?? ""),
      )
      .toMatch(/pinning source[\s\S]*loading source[\s\S]*compose finished, publishing/);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toBe("done");
    // Lines written after the hold reached the page through the log follower.
    const whole = await (await fetch(`${c.toplevel_url}/pungi-stderr.log`)).text();
    expect(whole).toMatch(/compose finished/);
    await expect
      .poll(async () => (await page.locator("#log").textContent())?.trim())
      .toBe(whole.trim());
    expect(whole.split("pinning source")[1]?.trim().length).toBeGreaterThan(0);
    expect(await page.getByRole("link", { name: ".repo file" }).count()).toBe(1);
    expect(await isSameDocument(page)).toBe(true);
    expect(await isSameDocument(list)).toBe(true);
    await list.close();
  });

  test("without the event stream, the page falls back to polling the JSON API", async () => {
    const heldBefore = srv.held;
    srv.hold(/repomd\.xml$/, 1);
    const c = await create({
      source: { type: "repo", source: srv.url, packages: ["wget"] },
      flags: ["no_reuse"],
    });
    await waitFor(() => srv.held === heldBefore + 1 || undefined, {
      what: "the worker to fetch repomd",
    });
    const polling = await context.newPage();
    await polling.route("**/api/1/events/**", (route) => route.fulfill({ status: 503, body: "" }));
    await polling.goto(`${svc.url}/ui/composes/${c.id}`);
    await mark(polling);
    await polling.waitForFunction(() => document.body.dataset.live === "polling");
    srv.release();
    await settled(c.id);
    await expect
      .poll(() => polling.locator("h1 .state").textContent(), { timeout: 15_000 })
      .toBe("done");
    expect(await isSameDocument(polling)).toBe(true);
    await polling.close();
  });
});

describe("actions", () => {
  test("renew and delete a done compose, cancel a waiting one", async () => {
    await page.goto(`${svc.url}/ui/composes/${done.id}`);
    const before = Date.parse(done.time_to_expire as string);
    await page.getByLabel("Keep for (seconds)").fill("200000");
    await page.getByRole("button", { name: "Renew" }).click();
    await page.waitForURL(/notice=renewed/);
    expect(await page.getByRole("status").textContent()).toContain(`Compose ${done.id} renewed`);
    const renewed = (await (
      await fetch(`${svc.url}/api/1/composes/${done.id}`)
    ).json()) as ComposeJson;
    expect(Date.parse(renewed.time_to_expire as string)).toBeGreaterThan(before);

    await page.getByRole("button", { name: "Delete compose" }).click();
    await page.waitForURL(/notice=delete-requested/);
    expect(await page.getByRole("status").textContent()).toContain("delete request");
    // Marked for the sweep (it runs once a minute): expired now, removed_by set.
    const marked = (await (
      await fetch(`${svc.url}/api/1/composes/${done.id}`)
    ).json()) as ComposeJson;
    expect(marked.removed_by).toBe("anonymous");
    expect(Date.parse(marked.time_to_expire as string)).toBeLessThanOrEqual(Date.now());

    const heldBefore = srv.held;
    srv.hold(/repomd\.xml$/, 1);
    const busy = await create({
      source: { type: "repo", source: srv.url, packages: ["wget"] },
      flags: ["no_reuse"],
    });
    const waiting = await create({
      source: { type: "repo", source: srv.url, packages: ["wget"] },
      flags: ["no_reuse"],
    });
    // One worker, held by `busy`: `waiting` stays waiting.
    await waitFor(() => srv.held === heldBefore + 1 || undefined, {
      what: "the worker to fetch repomd",
    });
    await page.goto(`${svc.url}/ui/composes/${waiting.id}`);
    expect(await stateOf(waiting.id)).toBe("wait");
    await page.getByRole("button", { name: "Cancel compose" }).click();
    await page.waitForURL(/notice=canceled/);
    expect(await stateOf(waiting.id)).toBe("failed");
    expect(await page.locator(".failure").textContent()).toContain("Canceled by anonymous");

    // `busy` is generating, its worker waiting on repomd: the same button cancels it.
    await page.goto(`${svc.url}/ui/composes/${busy.id}`);
    expect(await stateOf(busy.id)).toBe("generating");
    await page.getByRole("button", { name: "Cancel compose" }).click();
    await page.waitForURL(/notice=canceled/);
    expect(await stateOf(busy.id)).toBe("failed");
    expect(await page.locator(".failure").textContent()).toContain("Canceled by anonymous");
    srv.release();
  });
});
