import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  compareLayout,
  launchBrowser,
  layoutOf,
  screenshot,
  seriousViolations,
  WIDTHS,
  type WidthName,
} from "../helpers/browser.ts";
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
 * Every dashboard page in a real browser, at desktop and phone widths, in
 * light and dark colour schemes: no serious or critical axe violations, no
 * horizontal scroll, landmarks where the committed baseline has them
 * (test/dashboard/layout-baseline.json), screenshots kept under
 * test-artifacts/screenshots/ for CI.
 */

let svc: ServiceProcess;
let srv: Awaited<ReturnType<typeof repoServer>>;
let browser: Browser;
let done: ComposeJson;
let failed: ComposeJson;

const create = (body: Record<string, unknown>) => postCompose(svc.url, body);

const finished = (id: number) =>
  waitFor(
    async () => {
      const c = (await (await fetch(`${svc.url}/api/1/composes/${id}`)).json()) as ComposeJson;
      return ["done", "failed"].includes(c.state_name) || undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `compose ${id} to finish` },
  );

beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
  [svc, browser] = await Promise.all([
    startService({ env: { ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_WORKER_CONCURRENCY: "1" } }),
    launchBrowser(),
  ]);
  done = await create({
    source: { type: "repo", source: srv.url, packages: ["wget", "abcde"] },
    label: "screenshot",
  });
  failed = await create({
    source: { type: "repo", source: `${srv.url}/missing`, packages: ["wget"] },
  });
  await Promise.all([finished(done.id), finished(failed.id)]);
  // One left waiting behind a held worker, so the queue has something to show.
  srv.hold(/repomd\.xml$/, 1);
  const busy = await create({
    source: { type: "repo", source: srv.url, packages: ["wget"] },
    flags: ["no_reuse"],
  });
  await waitFor(() => srv.held === 1 || undefined, { what: "the worker to fetch repomd" });
  await create({
    source: { type: "repo", source: srv.url, packages: ["abcde"] },
    flags: ["no_reuse"],
  });
  expect(busy.id).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  srv?.release();
  await browser?.close();
  await svc?.stop();
  await srv?.close();
});

const PAGES = (): [string, string][] => [
  ["list", "/"],
  ["detail-done", `/ui/composes/${done.id}`],
  ["detail-failed", `/ui/composes/${failed.id}`],
  ["queue", "/ui/queue"],
  ["charts", "/ui/charts"],
  ["about", "/ui/about"],
  ["new", "/ui/new"],
];

/** Pages axe checks at phone width too: those whose layout changes there (tables become cards). */
const PHONE_AXE = new Set(["list", "detail-done", "queue"]);

describe.each(Object.keys(WIDTHS) as WidthName[])("at %s width", (width) => {
  test("every page: no serious axe violations, no horizontal scroll, landmarks in place", async () => {
    const context = await browser.newContext({ viewport: WIDTHS[width], colorScheme: "light" });
    const page = await context.newPage();
    const problems: string[] = [];
    for (const [name, path] of PAGES()) {
      await page.goto(`${svc.url}${path}`);
      if (name.startsWith("detail")) {
        await page
          .locator("details")
          .first()
          .evaluate((d) => d.setAttribute("open", ""));
      }
      if (width === "desktop" || PHONE_AXE.has(name)) {
        problems.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
      }
      const { overflowX, boxes } = await layoutOf(page);
      if (overflowX > 0) problems.push(`${name}: scrolls ${overflowX}px sideways`);
      problems.push(...compareLayout(`${name}@${width}`, boxes));
      await screenshot(page, `${name}-${width}`);
    }
    await context.close();
    expect(problems).toEqual([]);
  });
});

test("dark mode: dark background, readable colours (axe colour contrast)", async () => {
  for (const width of Object.keys(WIDTHS) as WidthName[]) {
    const context = await browser.newContext({ viewport: WIDTHS[width], colorScheme: "dark" });
    const dark = await context.newPage();
    for (const [name, path] of [PAGES()[0], PAGES()[2]] as [string, string][]) {
      await dark.goto(`${svc.url}${path}`);
      const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).not.toBe("rgb(255, 255, 255)");
      if (width === "desktop") expect(await seriousViolations(dark)).toEqual([]);
      await screenshot(dark, `${name}-${width}-dark`);
    }
    await context.close();
  }
});

test("without JavaScript every page works: filtering is a plain GET form, actions plain POSTs", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${svc.url}/`);
  await page.getByLabel("State", { exact: true }).selectOption("failed");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/state=failed/);
  expect(await page.locator("tbody tr").count()).toBe(1);
  await page.getByRole("link", { name: `Compose ${failed.id}`, exact: true }).click();
  await page.getByRole("button", { name: "Regenerate" }).click();
  await page.waitForURL(/notice=regenerated/);
  expect(await page.getByRole("status").textContent()).toContain(
    `Compose ${failed.id} is being regenerated`,
  );
  await context.close();
});
