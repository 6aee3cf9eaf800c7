import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type {
  APIRequestContext,
  BrowserContext,
  Locator,
  Page,
} from "@playwright/test";
import { expect, test } from "@playwright/test";
import {
  expectAccessible,
  expectNoSidewaysScroll,
  operatorCall as op,
  ownerContext,
  pageErrors,
  shot,
} from "./helpers";

// The moment of disruption: a restart is coming. The overview and the incident page lead with it
// (VM, countdown, what to do, start now / defer), pages update by themselves, and all of it works
// on a 1366×768 laptop and a 390×844 phone.
test.describe.configure({ mode: "serial" });

const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
// the most telling screenshots, kept beside the tests (git-ignored)
const KEPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "screenshots",
);
mkdirSync(KEPT, { recursive: true });
async function keep(page: Page, name: string) {
  await shot(page, name);
  await page.screenshot({
    path: path.join(KEPT, `${name}.png`),
    fullPage: false,
  });
}

// The six most telling pages, each kept at both sizes: the overview and the incident page with a
// banner (kept by their own tests), and these from the page sweeps.
const KEPT_PAGES: Record<string, string> = {
  "/incidents": "incidents",
  "/logs?range=30d": "logs-explorer",
  "/vms": "vms-restarting",
  "/vms/acme-prod-db-1": "vm-memory-health",
};

// One page of a sweep: shown whole, no sideways scroll, a screenshot (kept if it is one of the six).
async function sweep(page: Page, size: "phone" | "laptop", url: string) {
  await page.goto(url);
  await expect(page.locator("main")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await expectNoSidewaysScroll(page, url);
  const kept = KEPT_PAGES[url];
  if (kept) await keep(page, `${size}-${kept}`);
  else
    await shot(
      page,
      `${size}-${url.replace(/[/?=]+/g, "-").replace(/^-/, "")}`,
    );
}

const run = Date.now().toString(36);
const HOST = `e2e-host-${run}`;
const VM_SOON = `e2e-${run}-orders-db`;
const VM_LIVE = `e2e-${run}-queue-1`;
let hostToken = "";
let owner: BrowserContext;

async function memoryError(
  request: APIRequestContext,
  vmId: string,
  page: number,
) {
  const gpa =
    "0x" + (0x200000000 + page * 0x1000).toString(16).padStart(16, "0");
  const r = await request.post("/api/v1/events", {
    headers: {
      authorization: `Bearer ${hostToken}`,
      "content-type": "application/cloudevents+json",
    },
    data: {
      specversion: "1.0",
      id: `e2e-${run}-${vmId}-${page}`,
      source: `/hosts/${HOST}`,
      type: "vmm.memory_error.v1",
      time: new Date().toISOString(),
      subject: vmId,
      data: {
        vmId,
        hostId: HOST,
        arch: "arm64",
        mechanism: "kvm_exit_arm_sea",
        armSea: {
          flags: 1,
          esr: "0x0000000092000010",
          gva: "0x0000ffff9a2b3c40",
          gpa,
        },
        guestMode: "user",
        actions: ["sea_injected", "page_unmapped"],
      },
    },
  });
  expect(r.status(), await r.text()).toBe(200);
}

// Where an element ends, from the top of the page as first shown (the fold is the window's height).
async function bottomOf(l: Locator): Promise<number> {
  return l.evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
}

test.beforeAll(async ({ request, browser }) => {
  await op(request, "PUT", `/api/v1/admin/hosts/${HOST}`, {
    zone: "eu-west1-a",
  });
  hostToken = (await op(request, "POST", `/api/v1/admin/hosts/${HOST}/tokens`))
    .token;
  await op(request, "PUT", `/api/v1/admin/vms/${VM_SOON}`, {
    projectId: "acme-prod",
    name: "orders-db",
    zone: "eu-west1-a",
    hostId: HOST,
    placedAt: "2020-01-01T00:00:00Z",
  });
  await op(request, "PUT", `/api/v1/admin/vms/${VM_LIVE}`, {
    projectId: "acme-prod",
    name: "queue-1",
    zone: "eu-west1-a",
    hostId: HOST,
    placedAt: "2020-01-01T00:00:00Z",
  });
  // orders-db: an error, then the operator asks for its restart (in 15 minutes)
  await memoryError(request, VM_SOON, 1);
  await op(request, "POST", `/api/v1/admin/vms/${VM_SOON}/evacuate`);
  owner = await ownerContext(browser);
});

test.afterAll(async () => {
  await owner?.close();
});

test("1366×768: the overview leads with the coming restart, its live countdown and what to do, above the fold", async () => {
  const page = await owner.newPage();
  await page.setViewportSize(LAPTOP);
  await page.goto("/overview");
  const banner = page
    .getByTestId("evacuation-banner")
    .filter({ hasText: "orders-db" });
  await expect(
    banner.getByRole("heading", {
      name: /^orders-db restarts on a healthy host in \d+ min \d\d s$/,
    }),
  ).toBeVisible();
  await expect(banner).toContainText("Before it:");
  await expect(banner).toContainText(/fail over/i);
  await expect(
    banner.getByRole("button", { name: "Restart now" }),
  ).toBeVisible();
  await expect(banner.getByRole("button", { name: "Defer" })).toBeVisible();
  expect(
    await bottomOf(banner),
    "the banner ends above the fold",
  ).toBeLessThanOrEqual(LAPTOP.height);
  // the countdown counts
  const countdown = banner.getByTestId("countdown");
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first!, { timeout: 3000 });
  await expect(page.getByTestId("live-status")).toContainText(
    /updated \d+ s ago/,
  );
  await keep(page, "laptop-overview-banner");
  await expectAccessible(page, "overview with a banner");
  await page.close();
});

test("1366×768: the incident page names the incident and shows the restart's start and expected end", async () => {
  const page = await owner.newPage();
  await page.setViewportSize(LAPTOP);
  await page.goto("/overview");
  const href = await page
    .getByTestId("evacuation-banner")
    .filter({ hasText: "orders-db" })
    .getByRole("link", { name: "Open the playbook" })
    .getAttribute("href");
  expect(href).toMatch(/^\/incidents\/inc_[0-9A-Z]{26}#playbook$/);
  await page.goto(href!.replace(/#.*$/, ""));
  await expect(
    page.getByRole("heading", {
      level: 1,
      name: "orders-db — restart on a healthy host scheduled",
    }),
  ).toBeVisible();
  await expect(page).toHaveTitle(
    "orders-db — restart on a healthy host scheduled · Poisonwatch",
  );
  const banner = page.getByTestId("evacuation-banner");
  await expect(banner).toContainText("Start");
  await expect(banner).toContainText("Expected end");
  expect(await bottomOf(banner)).toBeLessThanOrEqual(LAPTOP.height);
  // the id is there, copyable, but never leads
  await expect(page.locator("#summary")).toContainText(/inc_[0-9A-Z]{26}/);
  await expect(page.getByRole("button", { name: "Copy id" })).toBeVisible();
  await keep(page, "laptop-incident-banner");
  await expectAccessible(page, "incident with a banner");

  // defer through the console's own dialog: the time moves, the timeline says so
  await banner.getByRole("button", { name: "Defer" }).click();
  const dialog = page.getByRole("dialog", {
    name: "Defer the restart of orders-db",
  });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "+1 h" }).click();
  await shot(page, "laptop-defer-dialog");
  await dialog.getByRole("button", { name: "Defer" }).click();
  await expect(dialog).toBeHidden();
  await expect(
    banner.getByRole("heading", { name: /in 1 h \d\d min$/ }),
  ).toBeVisible();
  await expect(page.locator("#timeline")).toContainText(
    "evacuation rescheduled",
  );
  await page.close();
});

test("a change made through the API appears on open pages without a reload", async ({
  request,
}) => {
  const page = await owner.newPage();
  await page.setViewportSize(LAPTOP);
  await page.goto("/incidents");
  const overview = await owner.newPage();
  await overview.setViewportSize(LAPTOP);
  await overview.goto("/overview");
  await expect(page.getByRole("link", { name: /^queue-1 — / })).toHaveCount(0);
  let reloaded = false;
  page.on("framenavigated", () => (reloaded = true));
  // a VMM reports an error on queue-1: a new incident
  await memoryError(request, VM_LIVE, 7);
  await expect(
    page.getByRole("link", {
      name: "queue-1 — memory error in a user process",
    }),
  ).toBeVisible({ timeout: 15_000 });
  await expect(
    overview
      .locator("#open-incidents")
      .getByRole("link", { name: "queue-1 — memory error in a user process" }),
  ).toBeVisible({ timeout: 15_000 });
  // the operator asks for its restart: the overview grows a banner by itself
  await op(request, "POST", `/api/v1/admin/vms/${VM_LIVE}/evacuate`);
  await expect(
    overview.getByTestId("evacuation-banner").filter({ hasText: "queue-1" }),
  ).toBeVisible({ timeout: 15_000 });
  expect(reloaded, "the page was not reloaded").toBe(false);
  await expect(page.getByTestId("live-status")).toContainText(
    /Live · updated \d+ s ago/,
  );
  await page.close();
  await overview.close();
});

test("start now, end to end: the banner's button restarts the VM", async () => {
  const page = await owner.newPage();
  const errors = pageErrors(page);
  await page.setViewportSize(LAPTOP);
  await page.goto("/overview");
  const banner = page
    .getByTestId("evacuation-banner")
    .filter({ hasText: "queue-1" });
  await banner.getByRole("button", { name: "Restart now" }).click();
  const dialog = page.getByRole("dialog", { name: "Restart queue-1 now?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Restart now" }).click();
  await expect(
    banner.getByRole("heading", {
      name: "queue-1 is restarting on a healthy host now",
    }),
  ).toBeVisible();
  await expect(banner.getByRole("button", { name: "Restart now" })).toHaveCount(
    0,
  );
  // the VM page says so too
  await page.goto(`/vms/${VM_LIVE}`);
  await expect(
    page.getByText("restarting on a healthy host").first(),
  ).toBeVisible();
  // and the VM list, while its evacuation runs
  await page.goto("/vms");
  await expect(
    page.getByRole("row").filter({ hasText: VM_LIVE }).getByText("restarting"),
  ).toBeVisible();
  // (a failed hydration throws the server's DOM away, and a click on it with it)
  expect(errors).toEqual([]);
  await page.close();
});

test("390×844: banner, incident and incident list fit a phone; no console page scrolls sideways", async () => {
  const page = await owner.newPage();
  const errors = pageErrors(page);
  await page.setViewportSize(PHONE);
  await page.goto("/overview");
  // the most urgent restart leads, whole, with its countdown
  const banner = page.getByTestId("evacuation-banner").first();
  await expect(banner.getByTestId("countdown")).toBeVisible();
  expect(await bottomOf(banner)).toBeLessThanOrEqual(PHONE.height);
  await expectNoSidewaysScroll(page, "/overview");
  await keep(page, "phone-overview-banner");
  await page.goto("/incidents");
  await expect(
    page.getByRole("link", { name: /^db-1 — / }).first(),
  ).toBeVisible();
  await expectNoSidewaysScroll(page, "/incidents");
  await keep(page, "phone-incidents");
  await page
    .getByRole("link", { name: /^orders-db — / })
    .first()
    .click();
  await expect(
    page.getByRole("heading", { level: 1, name: /^orders-db — / }),
  ).toBeVisible();
  await expectNoSidewaysScroll(page, "the incident page");
  await keep(page, "phone-incident-banner");
  for (const url of [
    "/logs?range=30d",
    "/vms",
    "/vms/acme-prod-db-1",
    "/settings/outbox",
    "/settings",
    "/settings/notifications",
    "/settings/webhooks",
    "/settings/channels/slack",
    "/settings/channels/teams",
    "/settings/channels/pagerduty",
    "/settings/feeds",
    "/settings/members",
    "/settings/api-keys",
    "/settings/audit",
  ]) {
    await sweep(page, "phone", url);
  }
  // every page hydrated as the server sent it
  expect(errors).toEqual([]);
  await page.close();
});

test("1366×768: every console page, screenshot", async () => {
  const page = await owner.newPage();
  const errors = pageErrors(page);
  await page.setViewportSize(LAPTOP);
  for (const url of [
    "/incidents",
    "/logs?range=30d",
    "/vms",
    "/vms/acme-prod-db-1",
    "/settings/outbox",
    "/settings",
    "/settings/notifications",
    "/settings/webhooks",
    "/settings/channels/slack",
    "/settings/channels/teams",
    "/settings/channels/pagerduty",
    "/settings/feeds",
    "/settings/members",
    "/settings/api-keys",
    "/settings/audit",
  ]) {
    await sweep(page, "laptop", url);
  }
  expect(errors).toEqual([]);
  await page.close();
});
