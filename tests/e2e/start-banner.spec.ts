import { expect, test } from "@playwright/test";
import { env, ownerStatePath, shot } from "./helpers";

// The start banner prints one-time sign-in links. This spec runs first (a project of its own in
// tests/playwright.config.ts that every other spec depends on): it uses the demo owner's link and
// saves the session the other specs share.
const OWNER = "owner@acme.example";

test("the start banner's one-time link signs the demo owner in", async ({
  browser,
}) => {
  const owner = await browser.newContext();
  const ownerPage = await owner.newPage();
  await ownerPage.goto(env("PW_E2E_OWNER_LINK"));
  await expect(ownerPage).toHaveURL(/\/overview$/);
  await expect(
    ownerPage.getByRole("heading", { level: 1, name: "Overview" }),
  ).toBeVisible();
  await expect(ownerPage.getByText(OWNER)).toBeVisible();
  await owner.storageState({ path: ownerStatePath() });
  // one-time: the same link does not work again
  const again = await browser.newContext();
  const p = await again.newPage();
  await p.goto(env("PW_E2E_OWNER_LINK"));
  await expect(p).toHaveURL(/\/login\?error=INVALID_TOKEN/);
  await expect(
    p.getByText("That sign-in link was already used or has expired"),
  ).toBeVisible();
  await shot(p, "login-link-used");
  await again.close();
  await owner.close();
});
