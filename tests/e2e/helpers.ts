import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import type {
  APIRequestContext,
  Browser,
  BrowserContext,
  Page,
} from "@playwright/test";
import { expect } from "@playwright/test";

const SHOTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../test-results/screenshots",
);
mkdirSync(SHOTS, { recursive: true });

export async function shot(page: Page, name: string) {
  await page.screenshot({
    path: path.join(SHOTS, `${name}.png`),
    fullPage: true,
  });
}

// No serious or critical accessibility violation on the page as it is now.
export async function expectAccessible(page: Page, what: string) {
  const r = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const bad = r.violations.filter(
    (v) => v.impact === "serious" || v.impact === "critical",
  );
  expect(
    bad.map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(" | ")}`,
    ),
    `axe on ${what}`,
  ).toEqual([]);
}

export function env(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: the web server's start banner did not carry it`,
    );
  return v;
}

// The demo owner's and the demo operator's signed-in browser states of this run: the start
// banner's links are one-time, so the first spec that uses one saves the session here and later
// specs start from it.
export const ownerStatePath = () =>
  path.join(env("PW_E2E_DATA_DIR"), "owner-state.json");
const operatorStatePath = () =>
  path.join(env("PW_E2E_DATA_DIR"), "operator-state.json");

async function bannerContext(
  browser: Browser,
  statePath: string,
  link: string,
  home: RegExp,
) {
  if (existsSync(statePath))
    return browser.newContext({ storageState: statePath });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(link);
  await expect(page).toHaveURL(home);
  await ctx.storageState({ path: statePath });
  await page.close();
  return ctx;
}

export const ownerContext = (browser: Browser) =>
  bannerContext(
    browser,
    ownerStatePath(),
    env("PW_E2E_OWNER_LINK"),
    /\/overview$/,
  );

// Without an email service the operator console's outbox is the one place a sign-in link can be
// read by anyone but its recipient.
export const operatorContext = (browser: Browser) =>
  bannerContext(
    browser,
    operatorStatePath(),
    env("PW_E2E_OPERATOR_LINK"),
    /\/operator$/,
  );

// The public sign-in form, filled in a fresh browser.
export async function requestSignInLink(browser: Browser, email: string) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/login");
  await page.getByLabel("Work email").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByText("Check your email.")).toBeVisible();
  return { ctx, page };
}

// A sign-in link as its recipient would get it without an email service: the operator reads the
// newest sign-in mail to that address in the operator console's outbox and passes it on.
export async function signInLinkFor(
  browser: Browser,
  to: string,
  subject = "Your Poisonwatch sign-in link",
): Promise<string> {
  const ctx = await operatorContext(browser);
  const page = await ctx.newPage();
  await page.goto("/operator/outbox");
  await page
    .getByRole("row")
    .filter({ hasText: subject })
    .filter({ hasText: to })
    .first()
    .getByRole("link")
    .click();
  await expect(
    page.getByRole("heading", { level: 1, name: subject }),
  ).toBeVisible();
  const href = await page
    .getByTestId("email-text")
    .locator('a[href*="/api/auth/magic-link/verify"]')
    .first()
    .getAttribute("href");
  expect(href).toBeTruthy();
  await ctx.close();
  return href!;
}

// Uncaught errors on a page from now on (a failed hydration is one: React #418/#423/#425 in a
// production build): expect the list to stay empty.
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

// The page is no wider than the window (nothing scrolls sideways).
export async function expectNoSidewaysScroll(page: Page, what: string) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(
    scroll,
    `${what} scrolls sideways (${scroll} > ${client})`,
  ).toBeLessThanOrEqual(client);
}

// A call to the operator API with this run's operator token; a 2xx answer's JSON.
export async function operatorCall(
  request: APIRequestContext,
  method: "PUT" | "POST",
  url: string,
  data: unknown = {},
) {
  const r = await request.fetch(url, {
    method,
    data,
    headers: { authorization: `Bearer ${env("PW_E2E_OPERATOR_TOKEN")}` },
  });
  expect(r.status(), `${method} ${url}: ${await r.text()}`).toBeLessThan(300);
  return r.json();
}

// A tenant member signed in the way a person is: asks for a link, and opens the one the operator
// read from the outbox.
export async function signInByEmail(
  browser: Browser,
  email: string,
): Promise<BrowserContext> {
  const { ctx, page } = await requestSignInLink(browser, email);
  await page.goto(await signInLinkFor(browser, email));
  await expect(page).toHaveURL(/\/overview$/);
  await page.close();
  return ctx;
}
