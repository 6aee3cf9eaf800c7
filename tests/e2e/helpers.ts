import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, Page } from "@playwright/test";
import { expect } from "@playwright/test";

const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-results/screenshots");
mkdirSync(SHOTS, { recursive: true });

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// No serious or critical accessibility violation on the page as it is now.
export async function expectAccessible(page: Page, what: string) {
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`),
    `axe on ${what}`,
  ).toEqual([]);
}

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the web server's start banner did not carry it`);
  return v;
}

// The demo owner's signed-in browser state of this run: the start banner's link is one-time, so
// the first spec that uses it saves the session here and later specs start from it.
export const ownerStatePath = () => path.join(env("PW_E2E_DATA_DIR"), "owner-state.json");

export async function ownerContext(browser: Browser) {
  if (existsSync(ownerStatePath())) return browser.newContext({ storageState: ownerStatePath() });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(env("PW_E2E_OWNER_LINK"));
  await expect(page).toHaveURL(/\/overview$/);
  await ctx.storageState({ path: ownerStatePath() });
  await page.close();
  return ctx;
}
