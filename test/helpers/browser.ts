/**
 * A real browser for the dashboard tests: Debian's chromium driven by
 * playwright-core (never a downloaded browser), axe-core for accessibility,
 * and layout checks that hold across fonts and data: no horizontal
 * overflow, and the bounding boxes of a page's landmarks compared with
 * committed baselines within a tolerance.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { type Browser, chromium, type Page } from "playwright-core";
import { ROOT } from "./service.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Git-ignored; CI keeps it as an artefact. */
export const SCREENSHOT_DIR = join(ROOT, "test-artifacts", "screenshots");
/** Committed landmark boxes per page and width; `ODCS_UPDATE_LAYOUT=1` rewrites them. */
export const LAYOUT_BASELINE = join(ROOT, "test", "dashboard", "layout-baseline.json");
/** How far (CSS px) a landmark may move or resize before it counts as a regression. */
export const LAYOUT_TOLERANCE_PX = 24;

export const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 375, height: 740 } };
export type WidthName = keyof typeof WIDTHS;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** Axe violations with impact serious or critical, as "rule: target …" lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} — ${v.help}`));
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The page's horizontal overflow (px beyond the viewport; 0 is right) and
 * the boxes of the landmarks present: header, h1, main, footer and the
 * first form, table and figure.
 */
export async function layoutOf(
  page: Page,
): Promise<{ overflowX: number; boxes: Record<string, Box> }> {
  return page.evaluate(() => {
    const selectors = [
      "header",
      "header nav",
      "main h1",
      "main",
      "footer",
      "main form",
      "main table",
      "main figure",
    ];
    const boxes: Record<string, { x: number; y: number; width: number; height: number }> = {};
    for (const s of selectors) {
      const el = document.querySelector(s);
      if (!el) continue;
      const r = el.getBoundingClientRect();
      boxes[s] = {
        x: Math.round(r.x + window.scrollX),
        y: Math.round(r.y + window.scrollY),
        width: Math.round(r.width),
        height: Math.round(r.height),
      };
    }
    const overflowX = Math.max(0, document.documentElement.scrollWidth - window.innerWidth);
    return { overflowX, boxes };
  });
}

function readBaseline(): Record<string, Record<string, Box>> {
  try {
    return JSON.parse(readFileSync(LAYOUT_BASELINE, "utf8")) as Record<string, Record<string, Box>>;
  } catch {
    return {};
  }
}

/**
 * Differences beyond the tolerance between the boxes and the baseline of
 * `key`: x and width of every landmark, y of those above the content
 * (header, h1), whose place does not depend on data. Heights and lower y
 * positions follow the data and are not compared.
 */
export function compareLayout(key: string, boxes: Record<string, Box>): string[] {
  if (process.env.ODCS_UPDATE_LAYOUT === "1") {
    const all = readBaseline();
    all[key] = boxes;
    const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(LAYOUT_BASELINE, `${JSON.stringify(sorted, null, 2)}\n`);
    return [];
  }
  const base = readBaseline()[key];
  if (!base) return [`no baseline for ${key} (run with ODCS_UPDATE_LAYOUT=1)`];
  const out: string[] = [];
  for (const [sel, want] of Object.entries(base)) {
    const got = boxes[sel];
    if (!got) {
      out.push(`${key}: ${sel} is missing`);
      continue;
    }
    const fields: (keyof Box)[] = ["x", "width"];
    if (sel === "header" || sel === "header nav" || sel === "main h1") fields.push("y");
    for (const f of fields) {
      if (Math.abs(got[f] - want[f]) > LAYOUT_TOLERANCE_PX) {
        out.push(`${key}: ${sel}.${f} is ${got[f]}, baseline ${want[f]}`);
      }
    }
  }
  return out;
}

/** A full-page screenshot into the artefacts dir; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
