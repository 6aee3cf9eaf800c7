import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "@playwright/test";
import {
  expectAccessible,
  ownerContext,
  pageErrors,
  shot,
  signInByEmail,
} from "./helpers";

// Notification settings and webhook endpoints in the console: an owner adds an endpoint that
// points at a receiver started here, sees its secret once, sends a test and watches it arrive in
// the delivery log, replays it (same webhook-id); a viewer sees the same pages read-only.
// Signs the owner in with the start banner's one-time link, so it runs first or on its own.
test.describe.configure({ mode: "serial" });

const OWNER = "owner@acme.example";
const VIEWER = "viewer@acme.example";

let owner: BrowserContext;
let ownerPage: Page;
let viewer: BrowserContext | undefined;
let receiver: Server;
let receiverUrl: string;
const received: { id: string; type: string; signature: string }[] = [];
let endpointPath = "";

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let type = "";
      try {
        type = JSON.parse(Buffer.concat(chunks).toString("utf8")).type;
      } catch {}
      received.push({
        id: String(req.headers["webhook-id"] ?? ""),
        type,
        signature: String(req.headers["webhook-signature"] ?? ""),
      });
      res
        .writeHead(200, { "content-type": "text/plain" })
        .end(`ok from the e2e receiver (${type})`);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await owner?.close();
  await viewer?.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

test("the owner signs in", async ({ browser }) => {
  owner = await ownerContext(browser);
  ownerPage = await owner.newPage();
  await ownerPage.goto("/overview");
  await expect(ownerPage.getByText(OWNER)).toBeVisible();
});

test("settings nav: notifications and webhooks", async () => {
  await ownerPage.goto("/settings/members");
  const nav = ownerPage.getByRole("navigation", { name: "Settings" });
  await nav.getByRole("link", { name: "Notifications" }).click();
  await expect(ownerPage).toHaveURL(/\/settings\/notifications$/);
  await expect(
    nav.getByRole("link", { name: "Notifications" }),
  ).toHaveAttribute("aria-current", "page");
  await expect(
    ownerPage.getByRole("heading", { name: "Email notifications" }),
  ).toBeVisible();
});

test("an owner saves the notification settings", async () => {
  const page = ownerPage;
  await page.goto("/settings/notifications");
  await page.getByRole("radio", { name: "A list of addresses" }).check();
  await page.getByLabel("Email addresses").fill("not-an-address");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(
    page.locator("#email-notifications").getByRole("alert"),
  ).toHaveText("Invalid email address");
  await expect(page.getByLabel("Email addresses")).toHaveAttribute(
    "aria-invalid",
    "true",
  );
  await shot(page, "notifications-error");
  await page
    .getByLabel("Email addresses")
    .fill("oncall@acme.example\nsre@acme.example");
  await page.getByRole("radio", { name: "CRITICAL only" }).check();
  await page.getByLabel("Digest").selectOption("daily");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(
    page.getByRole("status").filter({ hasText: "Saved." }),
  ).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Email addresses")).toHaveValue(
    "oncall@acme.example\nsre@acme.example",
  );
  await expect(
    page.getByRole("radio", { name: "CRITICAL only" }),
  ).toBeChecked();
  await expect(page.getByLabel("Digest")).toHaveValue("daily");
  await shot(page, "notifications-owner");
  await expectAccessible(page, "notification settings (owner)");
});

test("an owner adds a webhook endpoint and sees its secret once", async () => {
  const page = ownerPage;
  await page.goto("/settings/webhooks");
  await expect(page.getByText("No webhook endpoints")).toBeVisible();
  endpointPath = `${receiverUrl}/poisonwatch-e2e`;
  await page.getByLabel("Endpoint URL").fill(endpointPath);
  // webhook.test is never a subscription
  await expect(
    page.getByRole("checkbox", { name: /webhook\.test/ }),
  ).toHaveCount(0);
  await expect(
    page.getByRole("checkbox", { name: /incident\.opened/ }),
  ).toBeChecked();
  await page.getByRole("checkbox", { name: /memory_error\.detected/ }).check();
  await page.getByLabel("Description (optional)").fill("e2e receiver");
  await shot(page, "webhooks-create");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const secret = page.getByTestId("webhook-secret");
  await expect(secret).toHaveText(/^whsec_/);
  await expect(
    page.getByRole("row").filter({ hasText: endpointPath }),
  ).toContainText("enabled");
  await shot(page, "webhooks-secret-once");
  await expectAccessible(page, "webhooks (owner)");
  await page.getByRole("link", { name: "open the endpoint" }).click();
  await expect(page).toHaveURL(/\/settings\/webhooks\/[^/]+$/);
  await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
  await page.goto("/settings/webhooks");
  await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
});

test("an owner sends a test, sees it delivered in the log, and replays it with the same webhook-id", async () => {
  const page = ownerPage;
  await page.goto("/settings/webhooks");
  await page.getByRole("link", { name: endpointPath }).click();
  // (the demo's live incidents may already have sent something)
  await page.getByRole("button", { name: "Send test" }).click();
  const notice = page
    .getByRole("status")
    .filter({ hasText: /Test message .* queued/ });
  await expect(notice).toBeVisible();
  const messageId = (await notice.textContent())!.match(
    /Test message (\S+) queued/,
  )![1]!;
  const row = page.getByTestId("delivery").filter({ hasText: messageId });
  await expect(row).toContainText("succeeded", { timeout: 30_000 });
  await expect(row).toContainText("200");
  await expect(row).toContainText("webhook.test");
  const tests = () => received.filter((r) => r.type === "webhook.test");
  expect(tests().map((r) => r.id)).toEqual([messageId]);
  expect(tests()[0]!.signature).toMatch(/^v1,/);
  await row.getByText("Response").first().click();
  await expect(row).toContainText("ok from the e2e receiver (webhook.test)");
  await shot(page, "webhook-delivered");
  await expectAccessible(page, "webhook endpoint (owner)");

  await row.getByRole("button", { name: /Replay/ }).click();
  await expect(row.locator("li")).toHaveCount(2, { timeout: 30_000 });
  await expect(row).toContainText("succeeded");
  expect(tests().map((r) => r.id)).toEqual([messageId, messageId]);
  await shot(page, "webhook-replayed");
});

test("recover since: older than 14 days is refused with the server's error", async () => {
  const page = ownerPage;
  const old = new Date(Date.now() - 15 * 24 * 3600_000)
    .toISOString()
    .slice(0, 16);
  await page.getByLabel("Resend every failed message since").fill(old);
  await page.getByRole("button", { name: "Recover" }).click();
  await expect(page.locator("#recover").getByRole("alert")).toContainText(
    "14 days",
  );
  await expect(
    page.getByLabel("Resend every failed message since"),
  ).toHaveAttribute("aria-invalid", "true");
  await shot(page, "webhook-recover-refused");
  const recent = new Date(Date.now() - 2 * 3600_000).toISOString().slice(0, 16);
  await page.getByLabel("Resend every failed message since").fill(recent);
  await page.getByRole("button", { name: "Recover" }).click();
  await expect(
    page
      .getByRole("status")
      .filter({ hasText: "0 messages are being sent again." }),
  ).toBeVisible();
});

test("disable shows the reason; re-enable; rotate shows the new secret once", async () => {
  const page = ownerPage;
  // the console's own confirmation dialogs, never window.confirm
  page.on("dialog", (d) => {
    throw new Error(`a browser dialog: ${d.message()}`);
  });
  const confirm = async (
    button: string,
    title: string,
    confirmLabel = button,
  ) => {
    await page.getByRole("button", { name: button, exact: true }).click();
    const dialog = page.getByRole("dialog", { name: title });
    await expect(dialog).toBeVisible();
    await dialog
      .getByRole("button", { name: confirmLabel, exact: true })
      .click();
    await expect(dialog).toBeHidden();
  };
  await confirm("Disable", "Disable this endpoint?");
  await expect(page.getByTestId("disabled-reason")).toContainText(
    "disabled by a member",
  );
  await expect(page.getByRole("button", { name: "Send test" })).toBeDisabled();
  await shot(page, "webhook-disabled");
  await page.getByRole("button", { name: "Re-enable" }).click();
  await expect(page.getByTestId("disabled-reason")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Send test" })).toBeEnabled();
  await confirm("Rotate secret", "Rotate the signing secret?");
  await expect(page.getByTestId("webhook-secret")).toHaveText(/^whsec_/);
  await expect(
    page.getByText("The previous secret keeps signing beside it until"),
  ).toBeVisible();
  await shot(page, "webhook-rotated");
});

test("a viewer sees the pages read-only", async ({ browser }) => {
  viewer = await signInByEmail(browser, VIEWER);
  const page = await viewer.newPage();
  await page.goto("/settings/notifications");
  await expect(
    page.getByText(
      "Only members and owners can change notification settings. You are a viewer",
    ),
  ).toBeVisible();
  await expect(
    page.getByRole("radio", { name: "A list of addresses" }),
  ).toBeDisabled();
  await expect(page.getByLabel("Digest")).toBeDisabled();
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
  await shot(page, "notifications-viewer");
  await expectAccessible(page, "notification settings (viewer)");

  await page.goto("/settings/webhooks");
  await expect(
    page.getByRole("row").filter({ hasText: endpointPath }),
  ).toBeVisible();
  await expect(page.getByRole("button", { name: "Add endpoint" })).toHaveCount(
    0,
  );
  await shot(page, "webhooks-viewer");
  await page.getByRole("link", { name: endpointPath }).click();
  await expect(page.getByTestId("delivery").first()).toContainText("succeeded");
  for (const name of [
    "Send test",
    "Disable",
    "Rotate secret",
    "Delete",
    "Recover",
  ])
    await expect(page.getByRole("button", { name })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Replay/ })).toHaveCount(0);
  await shot(page, "webhook-viewer");
  await expectAccessible(page, "webhook endpoint (viewer)");
});

test("dark mode and a phone", async ({ browser }) => {
  const dark = await browser.newContext({
    colorScheme: "dark",
    viewport: { width: 390, height: 844 },
    storageState: await owner.storageState(),
  });
  const page = await dark.newPage();
  // a fresh context loads every script anew: an error on the way (a failed hydration throws the
  // server's DOM away, and a click on it with it) is reported as such, not as a missing row
  const errors = pageErrors(page);
  await page.goto("/settings/webhooks");
  // a click while the page is still hydrating was lost (seen in the whole browser run: the link
  // prefetched its page after the click, and no navigation followed), so click once it is idle
  await page.waitForLoadState("networkidle");
  await page.getByRole("link", { name: endpointPath }).click();
  await expect(page, "the endpoint's link leads to its page").toHaveURL(
    /\/settings\/webhooks\/[^/?#]+$/,
  );
  await expect(page.getByTestId("delivery").first()).toBeVisible();
  expect(errors).toEqual([]);
  await shot(page, "dark-phone-webhook");
  await expectAccessible(page, "webhook endpoint (dark, phone)");
  await page.goto("/settings/notifications");
  await shot(page, "dark-phone-notifications");
  await dark.close();
});

test("an owner deletes the endpoint", async () => {
  const page = ownerPage;
  await page.goto("/settings/webhooks");
  await page.getByRole("link", { name: endpointPath }).click();
  await page.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this endpoint?" });
  await expect(dialog).toContainText(endpointPath);
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/\/settings\/webhooks$/);
  await expect(page.getByText("No webhook endpoints")).toBeVisible();
});
