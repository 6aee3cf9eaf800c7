import { readFileSync } from "node:fs";
import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "@playwright/test";
import { operatorCall as op, ownerContext, shot } from "./helpers";

// The logs explorer: search, field filters, a chart whose bars open their range, and a download of
// the view as CSV and NDJSON, all held in the URL.
test.describe.configure({ mode: "serial" });

const run = Date.now().toString(36);
const HOST = `e2e-logs-host-${run}`;
const VM = `e2e-${run}-ledger-1`;
let owner: BrowserContext;

test.beforeAll(async ({ request, browser }) => {
  await op(request, "PUT", `/api/v1/admin/hosts/${HOST}`, {
    zone: "eu-west1-a",
  });
  const hostToken = (
    await op(request, "POST", `/api/v1/admin/hosts/${HOST}/tokens`)
  ).token;
  await op(request, "PUT", `/api/v1/admin/vms/${VM}`, {
    projectId: "acme-prod",
    name: "ledger-1",
    zone: "eu-west1-a",
    hostId: HOST,
    placedAt: "2020-01-01T00:00:00Z",
  });
  const event = (i: number, data: Record<string, unknown>) => ({
    specversion: "1.0",
    id: `e2e-logs-${run}-${i}`,
    source: `/hosts/${HOST}`,
    type: "vmm.memory_error.v1",
    time: new Date(Date.now() - (3 - i) * 60_000).toISOString(),
    subject: VM,
    data: { vmId: VM, hostId: HOST, vcpu: 1, guestMode: "user", ...data },
  });
  const r = await request.post("/api/v1/events", {
    headers: {
      authorization: `Bearer ${hostToken}`,
      "content-type": "application/cloudevents-batch+json",
    },
    data: [
      event(1, {
        arch: "arm64",
        mechanism: "kvm_exit_arm_sea",
        actions: ["sea_injected", "page_unmapped"],
        armSea: {
          flags: 1,
          esr: "0x0000000092000010",
          gva: "0x0000ffff9a2b3c40",
          gpa: "0x00000003c0ffe000",
        },
      }),
      event(2, {
        arch: "x86_64",
        mechanism: "sigbus",
        actions: ["mce_injected", "page_unmapped"],
        sigbus: {
          code: "BUS_MCEERR_AO",
          addrLsb: 12,
          gpa: "0x00000003c0fff000",
        },
      }),
    ],
  });
  expect(r.status(), await r.text()).toBe(200);
  expect((await r.json()).accepted).toBe(2);
  owner = await ownerContext(browser);
});

test.afterAll(async () => {
  await owner?.close();
});

const rows = (page: Page) =>
  page.getByRole("list", { name: "Log entries" }).getByRole("listitem");

test("search and field filters narrow the list, and the URL holds the view", async () => {
  const page = await owner.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`/logs?range=24h&vm=${VM}`);
  await expect(rows(page)).toHaveCount(2);
  await page.getByLabel("Search messages and fields").fill("sigbus");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/[?&]q=sigbus/);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText("WARNING");
  // a permalink: the same view again from its address alone
  await page.goto(page.url());
  await expect(rows(page)).toHaveCount(1);
  await expect(page.getByLabel("Search messages and fields")).toHaveValue(
    "sigbus",
  );

  await page.goto(`/logs?range=24h&vm=${VM}`);
  await page.getByLabel("Consumed").selectOption("true");
  await expect(page).toHaveURL(/consumed=true/);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText("CRITICAL");
  await page.getByLabel("Mechanism").selectOption("sigbus");
  await expect(rows(page)).toHaveCount(0);
  await expect(page.getByText("No log entries match")).toBeVisible();

  await page.goto(`/logs?range=24h&vm=${VM}`);
  await page.getByLabel("Address (gpa or gva)").fill("0x3c0ffe000");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/address=0x3c0ffe000/);
  await expect(rows(page)).toHaveCount(1);
  await shot(page, "logs-address-filter");
  await page.close();
});

test("a bar of the chart opens its range", async () => {
  const page = await owner.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`/logs?range=1h&vm=${VM}`);
  const chart = page.getByTestId("log-chart");
  await expect(chart).toBeVisible();
  await expect(
    page.getByRole("figure", { name: "Log entries over time" }),
  ).toContainText("2 matching entries");
  const bars = chart.locator("a[data-count]:not([data-count='0'])");
  const n = await bars.count();
  expect(n).toBeGreaterThan(0);
  const first = bars.first();
  const count = Number(await first.getAttribute("data-count"));
  await first.click();
  await expect(page).toHaveURL(/since=.*until=/);
  const url = new URL(page.url());
  const since = Date.parse(url.searchParams.get("since")!);
  const until = Date.parse(url.searchParams.get("until")!);
  expect(until - since).toBeLessThanOrEqual(60_000 * 60);
  expect(until).toBeGreaterThan(since);
  await expect(rows(page)).toHaveCount(count);
  await page.close();
});

test("the view downloads as CSV and NDJSON with the same rows", async ({
  request,
}) => {
  const page = await owner.newPage();
  await page.goto(`/logs?range=24h&vm=${VM}`);
  await expect(rows(page)).toHaveCount(2);
  const [csv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "CSV", exact: true }).click(),
  ]);
  expect(csv.suggestedFilename()).toMatch(/^log-entries-.*\.csv$/);
  const csvText = readFileSync((await csv.path())!, "utf8");
  const lines = csvText.split("\r\n").filter(Boolean);
  expect(lines[0]).toMatch(/^insertId,timestamp,receiveTimestamp,severity,/);
  expect(lines).toHaveLength(3);
  // the message holds commas: quoted
  expect(lines[1]).toContain(`,"`);

  const [nd] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "NDJSON", exact: true }).click(),
  ]);
  expect(nd.suggestedFilename()).toMatch(/\.ndjson$/);
  const entries = readFileSync((await nd.path())!, "utf8")
    .trim()
    .split("\n")
    .map(
      (l) =>
        JSON.parse(l) as {
          insertId: string;
          resource: { labels: { vmId: string } };
        },
    );
  expect(entries).toHaveLength(2);
  for (const e of entries) expect(e.resource.labels.vmId).toBe(VM);
  expect(entries.map((e) => e.insertId)).toEqual(
    lines.slice(1).map((l) => l.split(",")[0]),
  );
  // without a session (the request fixture has no cookies): no file
  const anon = await request.get("/logs/export?format=csv");
  expect(anon.status()).toBe(401);
  expect((await anon.json()).error.code).toBe("unauthorized");
  await page.close();
});

test("the old outbox address opens the outbox under settings", async () => {
  const page = await owner.newPage();
  await page.goto("/outbox");
  await expect(page).toHaveURL(/\/settings\/outbox$/);
  await expect(page.getByRole("heading", { name: "Outbox" })).toBeVisible();
  await expect(
    page
      .getByRole("navigation", { name: "Settings" })
      .getByRole("link", { name: "Outbox" }),
  ).toHaveAttribute("aria-current", "page");
  await page.close();
});
