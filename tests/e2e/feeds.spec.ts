import { expect, test } from "@playwright/test";
import { parseAtomFeed } from "feedsmith";
import {
  expectAccessible,
  expectNoSidewaysScroll,
  ownerContext,
  shot,
} from "./helpers";

// The console's feed settings: make a token, copy the two feed addresses, a reader gets the feed,
// revoking it refuses the next read; at laptop and phone sizes, with no sideways scrolling.

for (const size of [
  { name: "laptop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
]) {
  test(`feed settings at ${size.width}×${size.height}: make, read, revoke`, async ({
    browser,
  }) => {
    const ctx = await ownerContext(browser);
    const page = await ctx.newPage();
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto("/settings/feeds");
    await expect(
      page.getByRole("heading", { name: "Feed tokens" }),
    ).toBeVisible();
    await page.getByRole("button", { name: "Make a feed token" }).click();
    const urls = page.getByTestId("feed-url");
    await expect(urls).toHaveCount(2);
    const atomUrl = (await urls.nth(0).textContent())!;
    const icsUrl = (await urls.nth(1).textContent())!;
    expect(atomUrl).toMatch(/\/api\/v1\/feeds\/incidents\.atom\?token=pwf_/);
    expect(icsUrl).toMatch(/\/api\/v1\/feeds\/evacuations\.ics\?token=pwf_/);
    await expectNoSidewaysScroll(page, `/settings/feeds (${size.name})`);
    await expectAccessible(page, `/settings/feeds (${size.name})`);
    await shot(page, `feeds-${size.name}`);

    // the addresses name the public URL; the test server answers on its own
    const local = (u: string) => new URL(u).pathname + new URL(u).search;
    const atom = await page.request.get(local(atomUrl));
    expect(atom.status()).toBe(200);
    const feed = parseAtomFeed(await atom.text());
    expect(feed.title).toBeTruthy();
    const ics = await page.request.get(local(icsUrl));
    expect(ics.status()).toBe(200);
    expect(await ics.text()).toMatch(/^BEGIN:VCALENDAR\r\n/);

    await page.getByRole("button", { name: "Done" }).click();
    // the newest token is the last row; revoke it through the console's own dialog
    const row = page.getByRole("row").last();
    await row.getByRole("button", { name: /^Revoke/ }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await expect(dialog).toBeHidden();
    await expect
      .poll(async () => (await page.request.get(local(atomUrl))).status())
      .toBe(401);
    await ctx.close();
  });
}
