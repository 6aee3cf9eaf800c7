import type { Page } from "@playwright/test";
import { expect, test } from "@playwright/test";
import {
  expectAccessible,
  ownerContext,
  requestSignInLink,
  shot,
  signInLinkFor,
} from "./helpers";

// Issue 11, finding 1: an owner who invites another tenant's owner (or makes the public form mail
// them a sign-in link) must find no working link anywhere the console shows them.
test.describe.configure({ mode: "serial" });

const VICTIM = "owner@globex.example";
const VERIFY = /magic-link\/verify|[?&]token=/;

// Every link target, the visible text and the iframes' documents of the page, as one string.
async function everythingOn(page: Page): Promise<string> {
  const hrefs = await page
    .locator("a[href]")
    .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  const srcdocs = await page
    .locator("iframe")
    .evaluateAll((fs) => fs.map((f) => (f as HTMLIFrameElement).srcdoc));
  return [page.url(), ...hrefs, ...srcdocs, await page.content()].join("\n");
}

test("an owner who invites another tenant's owner finds no working link anywhere they can see", async ({
  browser,
}) => {
  const owner = await ownerContext(browser);
  const page = await owner.newPage();
  await page.goto("/settings/members");
  await page.getByLabel("Email", { exact: true }).fill(VICTIM);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByText(`Invited ${VICTIM} as viewer`)).toBeVisible();
  expect(await everythingOn(page)).not.toMatch(VERIFY);

  // passive: the victim, now a member of acme, gets a sign-in link from the public form
  await (await requestSignInLink(browser, VICTIM)).ctx.close();

  // the outbox says the invitation went, and withholds its content
  await page.goto("/outbox");
  const row = page.getByRole("row").filter({ hasText: VICTIM });
  await expect(row.filter({ hasText: "member invite" })).toHaveCount(1);
  // the sign-in mail is the victim's own, in no tenant's outbox
  await expect(row.filter({ hasText: "sign in link" })).toHaveCount(0);
  expect(await everythingOn(page)).not.toMatch(VERIFY);
  await row.filter({ hasText: "member invite" }).getByRole("link").click();
  await expect(page.getByTestId("email-withheld")).toContainText(VICTIM);
  await expect(page.getByTestId("email-text")).toHaveCount(0);
  await expect(page.locator("iframe")).toHaveCount(0);
  expect(await everythingOn(page)).not.toMatch(VERIFY);
  await shot(page, "outbox-invite-withheld");
  await expectAccessible(page, "a withheld invitation");

  // nowhere else either, and the operator's outbox is not theirs to open
  for (const path of [
    "/overview",
    "/incidents",
    "/logs",
    "/vms",
    "/settings/members",
    "/settings/audit",
    "/settings/api-keys",
    "/settings/notifications",
    "/settings/webhooks",
  ]) {
    await page.goto(path);
    expect(await everythingOn(page), path).not.toMatch(VERIFY);
  }
  const op = await page.goto("/operator/outbox");
  expect(op?.status()).toBe(404);
  expect(await everythingOn(page)).not.toMatch(VERIFY);
  await page.close();

  // the invitation itself exists and signs in its recipient (read by the operator, passed on)
  const link = await signInLinkFor(
    browser,
    VICTIM,
    "You are invited to join Acme Analytics on Poisonwatch",
  );
  const victim = await browser.newContext();
  const v = await victim.newPage();
  await v.goto(link);
  await expect(v).toHaveURL(/\/overview$/);
  await expect(v.getByText(VICTIM)).toBeVisible();
  await victim.close();
});
