import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { expect, test } from "@playwright/test";
import { startChannelFakes } from "../helpers/channel-fakes";
import type { ChannelFakes } from "../helpers/channel-fakes";
import { slackPreviewHtml, teamsPreviewHtml } from "./chat-previews";
import {
  expectAccessible,
  expectNoSidewaysScroll,
  operatorCall,
  ownerContext,
  shot,
  signInByEmail,
} from "./helpers";

// The console's chat and paging channel settings: Settings → Slack / Teams / PagerDuty. An owner
// adds a Slack channel pointing at a local fake of Slack, presses "Send test" and sees what the
// fake answered; a PagerDuty routing key is masked once created; deleting goes through the
// console's own dialog; at laptop and phone sizes with no sideways scroll and no serious axe
// finding. Then an incident goes out to Slack and Teams, and the payloads the fakes captured are
// drawn as a Block Kit and an Adaptive Card preview (tests/e2e/screenshots/, git-ignored).
test.describe.configure({ mode: "serial" });

const PREVIEWS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "screenshots",
);
const run = Date.now().toString(36);
let fx: ChannelFakes;

test.beforeAll(async () => {
  fx = await startChannelFakes();
});
test.afterEach(() => {
  // every message the app sent fits its platform's documented schema and limits
  expect(fx.violations).toEqual([]);
});
test.afterAll(async () => {
  await fx?.close();
});

// Confirms in the console's own dialog (a browser dialog fails the test).
async function confirmIn(page: Page, button: string, title: RegExp | string) {
  await page.getByRole("button", { name: button, exact: true }).click();
  const dialog = page.getByRole("dialog", { name: title });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: button, exact: true }).click();
  await expect(dialog).toBeHidden();
}

async function addChatChannel(
  page: Page,
  kind: "slack" | "teams",
  url: string,
  description: string,
) {
  const label = kind === "slack" ? "Slack" : "Microsoft Teams";
  await page.goto(`/settings/channels/${kind}`);
  await page
    .getByLabel(
      kind === "slack" ? "Incoming webhook URL" : "Workflows webhook URL",
    )
    .fill(url);
  await page.getByLabel("Description (optional)").fill(description);
  await page.getByRole("button", { name: `Add ${label} channel` }).click();
  await expect(
    page.getByRole("status").filter({ hasText: `${label} channel added` }),
  ).toBeVisible();
  return page.getByRole("row").filter({ hasText: description });
}

for (const size of [
  { name: "laptop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
]) {
  test(`Slack and PagerDuty settings at ${size.width}×${size.height}: add, test, mask, delete`, async ({
    browser,
  }) => {
    const ctx = await ownerContext(browser);
    const page = await ctx.newPage();
    page.on("dialog", (d) => {
      throw new Error(`a browser dialog: ${d.message()}`);
    });
    await page.setViewportSize({ width: size.width, height: size.height });

    // the settings nav leads to each kind
    await page.goto("/settings/webhooks");
    await page
      .getByRole("navigation", { name: "Settings" })
      .getByRole("link", { name: "Slack" })
      .click();
    await expect(page).toHaveURL(/\/settings\/channels\/slack$/);
    await expect(
      page.getByRole("heading", { name: "Slack channels" }),
    ).toBeVisible();

    // a URL the SSRF rule refuses: the server's message at the field
    await page.getByLabel("Incoming webhook URL").fill("ftp://example.com/x");
    await page.getByRole("button", { name: "Add Slack channel" }).click();
    await expect(page.getByLabel("Incoming webhook URL")).toHaveAttribute(
      "aria-invalid",
      "true",
    );
    await expect(
      page.locator("#create-channel").getByRole("alert"),
    ).toContainText("Invalid slack webhook URL");
    await shot(page, `channels-slack-invalid-${size.name}`);

    const { url, path: hookPath } = fx.newUrl("slack");
    const secretPart = hookPath.split("/").slice(2).join("/");
    const row = await addChatChannel(
      page,
      "slack",
      url,
      `e2e ${size.name} ${run}`,
    );
    await expect(row).toContainText("enabled");
    // answered masked: the origin and the last four characters, never the secret path
    await expect(row).toContainText(`${fx.base}/…${hookPath.slice(-4)}`);
    expect(await page.content()).not.toContain(secretPart);
    await expectNoSidewaysScroll(
      page,
      `/settings/channels/slack (${size.name})`,
    );
    await expectAccessible(page, `/settings/channels/slack (${size.name})`);
    await shot(page, `channels-slack-${size.name}`);

    // send a test and see what "Slack" answered
    await row.getByRole("link").click();
    await expect(page).toHaveURL(/\/settings\/channels\/slack\/chn_[^/]+$/);
    await page.getByRole("button", { name: "Send test" }).click();
    const answer = page.getByTestId("test-answer");
    await expect(answer).toContainText("Slack answered HTTP 200", {
      timeout: 30_000,
    });
    await expect(answer).toContainText("the test arrived");
    await expect(answer.locator("pre")).toHaveText("ok");
    await expect(answer).toContainText(/\d+ ms/);
    // the demo tenant's incidents go on changing (db-1's restart starts on its own schedule), so
    // the new channel may also carry a real message: exactly one of them is the test
    const tests = fx
      .on(hookPath)
      .filter((m) =>
        JSON.stringify(m.body).includes("Poisonwatch test message"),
      );
    expect(tests).toHaveLength(1);
    expect(tests[0]!.body.text).toMatch(/test/i);
    await expect(
      page.getByTestId("delivery").filter({ hasText: "webhook.test" }),
    ).toContainText("succeeded");
    await expectNoSidewaysScroll(page, `the Slack channel (${size.name})`);
    await expectAccessible(page, `the Slack channel (${size.name})`);
    await shot(page, `channel-slack-tested-${size.name}`);

    // disable and enable again, then delete through the console's dialog
    await confirmIn(page, "Disable", "Disable this channel?");
    await expect(page.getByTestId("disabled-reason")).toContainText(
      "disabled by a member",
    );
    await expect(
      page.getByRole("button", { name: "Send test" }),
    ).toBeDisabled();
    await page.getByRole("button", { name: "Enable", exact: true }).click();
    await expect(page.getByTestId("disabled-reason")).toHaveCount(0);
    await confirmIn(page, "Delete", "Delete this Slack channel?");
    await expect(page).toHaveURL(/\/settings\/channels\/slack$/);
    await expect(
      page.getByRole("row").filter({ hasText: `e2e ${size.name} ${run}` }),
    ).toHaveCount(0);

    // PagerDuty: a bad key is refused at the field; a good one is shown masked from then on
    const key = `E2e${size.name === "laptop" ? "L" : "P"}${run}`
      .replace(/[^A-Za-z0-9]/g, "")
      .padEnd(32, "7")
      .slice(0, 32);
    await page
      .getByRole("navigation", { name: "Settings" })
      .getByRole("link", { name: "PagerDuty" })
      .click();
    await expect(
      page.getByRole("heading", { name: "PagerDuty channels" }),
    ).toBeVisible();
    // PagerDuty pages only about incidents
    await expect(page.getByRole("checkbox")).toHaveCount(3);
    const keyField = page.getByLabel("Integration key (routing key)");
    await keyField.fill("too-short");
    await page.getByRole("button", { name: "Add PagerDuty channel" }).click();
    await expect(keyField).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByText("32-character").first()).toBeVisible();
    await keyField.fill(key);
    await page
      .getByLabel("Description (optional)")
      .fill(`pd ${size.name} ${run}`);
    await page.getByRole("button", { name: "Add PagerDuty channel" }).click();
    await expect(
      page.getByRole("status").filter({ hasText: "PagerDuty channel added" }),
    ).toBeVisible();
    const masked = `${key.slice(0, 4)}…${key.slice(-4)}`;
    const pdRow = page
      .getByRole("row")
      .filter({ hasText: `pd ${size.name} ${run}` });
    await expect(pdRow).toContainText(masked);
    await expect(keyField).toHaveValue("");
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await expect(pdRow).toContainText(masked);
    expect(await page.content()).not.toContain(key);
    await expectNoSidewaysScroll(
      page,
      `/settings/channels/pagerduty (${size.name})`,
    );
    await expectAccessible(page, `/settings/channels/pagerduty (${size.name})`);
    await shot(page, `channels-pagerduty-${size.name}`);
    await pdRow.getByRole("link").click();
    await expect(page.getByText(masked).first()).toBeVisible();
    expect(await page.content()).not.toContain(key);
    await expectNoSidewaysScroll(page, `the PagerDuty channel (${size.name})`);
    await expectAccessible(page, `the PagerDuty channel (${size.name})`);
    await confirmIn(page, "Delete", "Delete this PagerDuty channel?");
    await expect(page).toHaveURL(/\/settings\/channels\/pagerduty$/);
    await expect(
      page.getByRole("row").filter({ hasText: `pd ${size.name} ${run}` }),
    ).toHaveCount(0);
    await ctx.close();
  });
}

test("an incident as Slack and Teams show it: previews of the real payloads", async ({
  browser,
  request,
}) => {
  const ctx = await ownerContext(browser);
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  const slack = fx.newUrl("slack");
  const teams = fx.newUrl("teams");
  await addChatChannel(page, "slack", slack.url, `preview ${run}`);
  const teamsRow = await addChatChannel(
    page,
    "teams",
    teams.url,
    `preview ${run}`,
  );
  await expect(teamsRow).toContainText("enabled");
  await expectAccessible(page, "/settings/channels/teams");
  await shot(page, "channels-teams-laptop");

  // a new VM's first memory error opens an incident: incident.opened goes to both channels
  const HOST = `e2e-chan-host-${run}`;
  const VM = `e2e-${run}-payments`;
  const NAME = `payments-${run}`;
  await operatorCall(request, "PUT", `/api/v1/admin/hosts/${HOST}`, {
    zone: "eu-west1-a",
  });
  const hostToken = (
    await operatorCall(request, "POST", `/api/v1/admin/hosts/${HOST}/tokens`)
  ).token;
  await operatorCall(request, "PUT", `/api/v1/admin/vms/${VM}`, {
    projectId: "acme-prod",
    name: NAME,
    zone: "eu-west1-a",
    hostId: HOST,
    placedAt: "2020-01-01T00:00:00Z",
  });
  const r = await request.post("/api/v1/events", {
    headers: {
      authorization: `Bearer ${hostToken}`,
      "content-type": "application/cloudevents+json",
    },
    data: {
      specversion: "1.0",
      id: `e2e-chan-${run}`,
      source: `/hosts/${HOST}`,
      type: "vmm.memory_error.v1",
      time: new Date().toISOString(),
      subject: VM,
      data: {
        vmId: VM,
        hostId: HOST,
        vcpu: 1,
        guestMode: "user",
        arch: "x86_64",
        mechanism: "sigbus",
        actions: ["mce_injected", "page_unmapped"],
        sigbus: {
          code: "BUS_MCEERR_AR",
          addrLsb: 12,
          gpa: "0x00000003c0ffe000",
        },
      },
    },
  });
  expect(r.status(), await r.text()).toBe(200);

  const opened = (p: string) =>
    fx.on(p).find((m) => JSON.stringify(m.body).includes(NAME));
  await expect
    .poll(() => Boolean(opened(slack.path) && opened(teams.path)), {
      timeout: 30_000,
    })
    .toBe(true);
  const slackMsg = opened(slack.path)!.body;
  const teamsMsg = opened(teams.path)!.body;
  expect(slackMsg.blocks[0].type).toBe("header");
  expect(slackMsg.blocks[0].text.text).toContain(NAME);
  expect(teamsMsg.attachments[0].content.body[0].text as string).toContain(
    NAME,
  );

  mkdirSync(PREVIEWS, { recursive: true });
  const preview = await ctx.newPage();
  await preview.setViewportSize({ width: 820, height: 600 });
  await preview.setContent(slackPreviewHtml(slackMsg));
  await expect(preview.locator(".unsupported")).toHaveCount(0);
  await expect(preview.locator(".header")).toContainText(NAME);
  await expect(preview.locator(".button")).toHaveCount(1);
  await preview.screenshot({
    path: path.join(PREVIEWS, "slack-incident-opened.png"),
    fullPage: true,
  });
  await preview.setContent(teamsPreviewHtml(teamsMsg));
  await expect(preview.locator(".unsupported")).toHaveCount(0);
  await expect(preview.locator(".facts tr").first()).toBeVisible();
  await preview.screenshot({
    path: path.join(PREVIEWS, "teams-incident-opened.png"),
    fullPage: true,
  });

  // the delivery log shows what went out and what the platform answered
  await page.goto("/settings/channels/teams");
  await teamsRow.getByRole("link").click();
  await expect(
    page.getByTestId("delivery").filter({ hasText: "incident.opened" }).first(),
  ).toContainText("202");
  await expectAccessible(page, "the Teams channel");
  await shot(page, "channel-teams-delivered-laptop");
  // leave nothing sending to the fake once it stops
  await confirmIn(page, "Delete", "Delete this Microsoft Teams channel?");
  await page.goto("/settings/channels/slack");
  await page
    .getByRole("row")
    .filter({ hasText: `preview ${run}` })
    .getByRole("link")
    .click();
  await confirmIn(page, "Delete", "Delete this Slack channel?");
  await ctx.close();
});

test("a viewer reads the channel pages and changes nothing", async ({
  browser,
}) => {
  const owner = await ownerContext(browser);
  const ownerPage = await owner.newPage();
  const { url } = fx.newUrl("slack");
  await addChatChannel(ownerPage, "slack", url, `viewer ${run}`);

  const viewer = await signInByEmail(browser, "viewer@acme.example");
  const page = await viewer.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/settings/channels/slack");
  await expect(
    page.getByText(
      "Only members and owners can add or change Slack channels. You are a viewer",
    ),
  ).toBeVisible();
  await expect(
    page.getByRole("button", { name: "Add Slack channel" }),
  ).toHaveCount(0);
  await page
    .getByRole("row")
    .filter({ hasText: `viewer ${run}` })
    .getByRole("link")
    .click();
  await expect(
    page.getByRole("heading", { name: "Delivery log" }),
  ).toBeVisible();
  for (const name of ["Send test", "Disable", "Delete"])
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(
      0,
    );
  await expect(
    page.getByText("Only members and owners can send tests"),
  ).toBeVisible();
  await expectNoSidewaysScroll(page, "the Slack channel (viewer, phone)");
  await expectAccessible(page, "the Slack channel (viewer)");
  await shot(page, "channel-slack-viewer-phone");
  await viewer.close();

  // the owner removes it again
  await ownerPage.goto("/settings/channels/slack");
  await ownerPage
    .getByRole("row")
    .filter({ hasText: `viewer ${run}` })
    .getByRole("link")
    .click();
  await confirmIn(ownerPage, "Delete", "Delete this Slack channel?");
  await owner.close();
});
