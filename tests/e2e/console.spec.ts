import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "@playwright/test";
import {
  env,
  expectAccessible,
  ownerContext,
  requestSignInLink,
  shot,
  signInLinkFor,
} from "./helpers";

// One demo installation, walked through in order: sign-in through email, the incident and its
// playbook, the logs explorer, a VM's memory health, tenant isolation, roles, accessibility.
test.describe.configure({ mode: "serial" });

const OWNER = "owner@acme.example";
const VIEWER = "viewer@acme.example";

let owner: BrowserContext;
let viewer: BrowserContext;
let ownerPage: Page;

test.afterAll(async () => {
  await owner?.close();
  await viewer?.close();
});

// the start banner's link was used (and the session saved) by start-banner.spec.ts, which the
// playwright config runs before every other spec
test.beforeAll(async ({ browser }) => {
  owner = await ownerContext(browser);
  ownerPage = await owner.newPage();
  await ownerPage.goto("/overview");
});

test("sign in through the magic-link email (built-in outbox)", async ({
  browser,
}) => {
  // the viewer asks for a link; without an email service the operator reads it (operator outbox)
  const v = await requestSignInLink(browser, VIEWER);
  await shot(v.page, "login-sent");
  const link = await signInLinkFor(browser, VIEWER);
  await v.page.goto(link);
  await expect(v.page).toHaveURL(/\/overview$/);
  await expect(v.page.getByText(VIEWER)).toBeVisible();
  await expect(v.page.locator("header")).toContainText("viewer");
  viewer = v.ctx;

  // the owner too, in a fresh browser, through the same email path
  const o = await requestSignInLink(browser, OWNER);
  const ownerLink = await signInLinkFor(browser, OWNER);
  await o.page.goto(ownerLink);
  await expect(o.page).toHaveURL(/\/overview$/);
  await expect(o.page.getByText(OWNER)).toBeVisible();
  await o.ctx.close();
});

test("overview: open incidents, affected VMs, errors over 30 days", async () => {
  await ownerPage.goto("/overview");
  await expect(ownerPage.getByText("Open incidents").first()).toBeVisible();
  await expect(
    ownerPage.getByRole("img", {
      name: /Memory errors per day over the last 30 days/,
    }),
  ).toBeVisible();
  await expect(
    ownerPage.locator("#open-incidents").getByRole("row"),
  ).not.toHaveCount(0);
  await shot(ownerPage, "overview");
  await expectAccessible(ownerPage, "overview");
  // the errors it counts are the rows its link opens in the log explorer: the same number
  const stat = ownerPage
    .getByText("Errors, last 30 days", { exact: true })
    .locator("..");
  const counted = Number((await stat.locator("p").nth(1).textContent())!);
  expect(counted).toBeGreaterThan(0);
  await stat.getByRole("link", { name: "Explore the logs" }).click();
  await expect(ownerPage).toHaveURL(/\/logs\?since=.*&until=/);
  const chart = ownerPage.getByRole("figure", {
    name: "Log entries over time",
  });
  await expect(chart.locator("figcaption strong")).toHaveText(
    counted.toLocaleString("en"),
  );
});

test("open a demo incident and its playbook", async () => {
  await ownerPage.goto("/incidents");
  await expect(
    ownerPage.getByRole("heading", { level: 1, name: "Incidents" }),
  ).toBeVisible();
  await shot(ownerPage, "incidents");
  await expectAccessible(ownerPage, "incidents");
  // acme's db-1 has several errors today: its incident is open
  // incidents are named by their VM and what happened, never by their id
  await expect(ownerPage.getByRole("link", { name: /^inc_/ })).toHaveCount(0);
  const row = ownerPage.getByRole("row").filter({ hasText: "db-1" }).first();
  await row.getByRole("link", { name: /^db-1 — / }).click();
  await expect(ownerPage).toHaveURL(/\/incidents\/inc_/);
  const playbook = ownerPage.locator("#playbook");
  await expect(
    playbook.getByRole("heading", { name: "Playbook: what to do" }),
  ).toBeVisible();
  await expect(
    playbook.getByRole("heading", { name: "What happened" }),
  ).toBeVisible();
  await expect(playbook.getByRole("listitem")).not.toHaveCount(0);
  await expect(playbook).toContainText("acme-prod-db-1");
  await expect(ownerPage.locator("#timeline li").first()).toBeVisible();
  // first and latest error, labelled so and in order (by the errors' own times)
  const summary = ownerPage.locator("#summary");
  const first = await summary
    .locator("div", { hasText: /^First error/ })
    .locator("time")
    .getAttribute("datetime");
  const latest = await summary
    .locator("div", { hasText: /^Latest error/ })
    .locator("time")
    .getAttribute("datetime");
  expect(Date.parse(first!)).toBeLessThan(Date.parse(latest!)); // db-1 had errors hours apart
  // one time format: how long ago, the exact time in the viewer's zone and in UTC on hover
  const t = ownerPage.locator("#summary time").first();
  await expect(t).toHaveAttribute("title", /(CES?T|GMT\+[12]) · .* UTC$/);
  await expect(t).toContainText(/ ago$|^just now$|^yesterday$/);
  // log entries of the incident, with their JSON
  const entries = ownerPage.locator("#log-entries");
  await entries.getByRole("button").first().click();
  await expect(entries.locator("pre").first()).toContainText(
    '"insertId": "log_',
  );
  // and one sentence a person understands beside the raw fields
  await expect(entries.getByTestId("plain-words").first()).toContainText(
    /uncorrectable (memory )?error/,
  );
  await shot(ownerPage, "incident");
  await expectAccessible(ownerPage, "incident");
  // a process killed by a consumed error: the playbook says how to find it, with commands
  await ownerPage.goto("/incidents?status=resolved");
  await ownerPage
    .getByRole("link", { name: / — memory error in a user process$/ })
    .first()
    .click();
  await expect(
    playbook.getByRole("heading", { name: "Find the affected process" }),
  ).toBeVisible();
  await expect(
    playbook.locator("pre").filter({ hasText: "journalctl" }).first(),
  ).toBeVisible();
  // what the guest kernel prints: "Memory failure:" lines, or on arm64 without an error record the process's abort
  await expect(
    playbook
      .locator("pre")
      .filter({ hasText: /Memory failure:|unhandled exception/ })
      .first(),
  ).toBeVisible();
  await shot(ownerPage, "incident-user-process");
});

test("the incident page does not shift while it loads", async () => {
  const url = ownerPage.url();
  await ownerPage.addInitScript(() => {
    const w = window as unknown as { __cls: number };
    w.__cls = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as (PerformanceEntry & {
        value: number;
        hadRecentInput: boolean;
      })[]) {
        if (!e.hadRecentInput) w.__cls += e.value;
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
  await ownerPage.goto(url);
  await ownerPage.waitForLoadState("networkidle");
  await ownerPage.waitForTimeout(500);
  const shift = await ownerPage.evaluate(
    () => (window as unknown as { __cls: number }).__cls,
  );
  expect(shift).toBeLessThan(0.01);
});

test("filter the logs explorer; its URL is a permalink", async () => {
  await ownerPage.goto("/logs?range=30d");
  const list = ownerPage.getByRole("list", { name: "Log entries" });
  await expect(list.getByRole("listitem").first()).toBeVisible();
  const all = await list.getByRole("listitem").count();
  await ownerPage.getByLabel("Severity").selectOption("CRITICAL");
  await expect(ownerPage).toHaveURL(/severity=CRITICAL/);
  await ownerPage.getByLabel("Project").selectOption("acme-prod");
  await expect(ownerPage).toHaveURL(/project=acme-prod/);
  await ownerPage
    .getByLabel("VM", { exact: true })
    .selectOption("acme-prod-db-1");
  await expect(ownerPage).toHaveURL(/vm=acme-prod-db-1/);
  await expect(ownerPage).toHaveURL(/range=30d/);
  const rows = list.getByRole("listitem");
  await expect(rows.first()).toBeVisible();
  const n = await rows.count();
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(all);
  for (let i = 0; i < n; i++) {
    await expect(rows.nth(i)).toContainText("CRITICAL");
    await expect(rows.nth(i)).toContainText("acme-prod-db-1");
  }
  // expand an entry: its JSON and a permalink
  await rows.first().getByRole("button").click();
  await expect(rows.first().locator("pre")).toContainText(
    '"severity": "CRITICAL"',
  );
  await shot(ownerPage, "logs-filtered");
  await expectAccessible(ownerPage, "logs explorer");
  await rows.first().getByRole("link", { name: "Permalink" }).click();
  await expect(ownerPage).toHaveURL(/\/logs\?entry=log_/);
  await expect(ownerPage.locator("#linked-entry pre")).toContainText(
    '"insertId": "log_',
  );
  await shot(ownerPage, "logs-permalink");
  // the filtered URL, opened afresh, shows the same filters
  await ownerPage.goto("/logs?severity=WARNING&range=30d");
  // the filters of the page now shown (a page still leaving may hold its own for a moment)
  const filters = ownerPage.getByRole("form", { name: "Log filters" });
  await expect(filters.getByLabel("Severity")).toHaveValue("WARNING");
  await expect(filters.getByLabel("Time range")).toHaveValue("30d");
  const warnings = list.getByRole("listitem");
  const w = await warnings.count();
  for (let i = 0; i < w; i++)
    await expect(warnings.nth(i)).toContainText("WARNING");
  await ownerPage.goto("/logs");
  await expect(
    ownerPage.getByRole("heading", { level: 1, name: "Logs" }),
  ).toBeVisible();
  await shot(ownerPage, "logs");
});

test("open a VM's memory health", async () => {
  await ownerPage.goto("/vms");
  await expect(
    ownerPage.getByRole("heading", { level: 1, name: "VMs" }),
  ).toBeVisible();
  await shot(ownerPage, "vms");
  await expectAccessible(ownerPage, "VMs");
  await ownerPage.getByRole("link", { name: "db-1" }).first().click();
  await expect(ownerPage).toHaveURL(/\/vms\/acme-prod-db-1$/);
  const health = ownerPage.locator("#memory-health");
  await expect(
    health.getByRole("img", {
      name: /Distinct poisoned pages per day over the last 30 days, against the threshold of 4/,
    }),
  ).toBeVisible();
  await expect(health.getByRole("meter")).toHaveAttribute(
    "aria-valuenow",
    /[1-9]/,
  );
  await expect(health).toContainText("threshold 4");
  await shot(ownerPage, "vm");
  await expectAccessible(ownerPage, "VM memory health");
});

test("another tenant's incident and VM URLs give a not-found page", async ({
  request,
}) => {
  // globex's incident id, found the way its automation would: a globex API key on the REST API
  const op = env("PW_E2E_OPERATOR_TOKEN");
  const key = await request.post("/api/v1/admin/tenants/globex/api-keys", {
    headers: { authorization: `Bearer ${op}` },
  });
  expect(key.status()).toBe(201);
  const list = await request.get("/api/v1/incidents", {
    headers: { authorization: `Bearer ${(await key.json()).key}` },
  });
  const incidents = (await list.json()).data as { id: string; vmId: string }[];
  expect(incidents.length).toBeGreaterThan(0);
  const res = await ownerPage.goto(`/incidents/${incidents[0]!.id}`);
  expect(res?.status()).toBe(404);
  await expect(
    ownerPage.getByRole("heading", { level: 1, name: "Not found" }),
  ).toBeVisible();
  await expect(ownerPage.locator("body")).not.toContainText(incidents[0]!.vmId);
  await shot(ownerPage, "not-found-other-tenant");
  await expectAccessible(ownerPage, "not found");
  const vm = await ownerPage.goto(`/vms/${incidents[0]!.vmId}`);
  expect(vm?.status()).toBe(404);
  // and the API the console uses answers the same
  const trpc = await ownerPage.evaluate(async (id) => {
    const r = await fetch(
      `/api/trpc/incident.byId?input=${encodeURIComponent(JSON.stringify({ json: { id } }))}`,
    );
    return r.status;
  }, incidents[0]!.id);
  expect(trpc).toBe(404);
});

test("a viewer cannot change settings", async () => {
  const page = await viewer.newPage();
  await page.goto("/settings/members");
  await expect(page.getByText("Only owners can invite members")).toBeVisible();
  await expect(page.getByRole("button", { name: "Invite" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Remove/ })).toHaveCount(0);
  await expect(page.getByRole("combobox")).toHaveCount(0);
  await shot(page, "settings-members-viewer");
  await expectAccessible(page, "members (viewer)");
  await page.goto("/settings/api-keys");
  await expect(
    page.getByText("Only owners can create or revoke API keys"),
  ).toBeVisible();
  await expect(page.getByRole("button", { name: "Create key" })).toHaveCount(0);
  await shot(page, "settings-api-keys-viewer");
  await page.goto("/settings/audit");
  await expect(
    page.getByText("Only owners can read the audit log"),
  ).toBeVisible();
  // the server refuses too, whatever the page shows
  const statuses = await page.evaluate(async () => {
    const call = (path: string, json: unknown) =>
      fetch(`/api/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json }),
      }).then((r) => r.status);
    return [
      await call("settings.inviteMember", {
        email: "intruder@acme.example",
        role: "owner",
      }),
      await call("settings.createApiKey", {}),
    ];
  });
  expect(statuses).toEqual([403, 403]);
  await page.goto("/settings/outbox");
  // the owner's sign-in mail is not the viewer's to read
  await expect(
    page
      .getByRole("row")
      .filter({ hasText: OWNER })
      .filter({ hasText: "sign-in link" }),
  ).toHaveCount(0);
  await shot(page, "outbox-viewer");
  await page.close();
});

test("an owner invites a member and makes an API key that is shown once", async () => {
  await ownerPage.goto("/settings/members");
  // one invite form: a page that streams in is hydrated, never rendered a second time beside the
  // server's copy (hydration.spec.ts makes that moment certain)
  await ownerPage
    .getByLabel("Email", { exact: true })
    .fill("new.person@acme.example");
  await ownerPage.getByLabel("Role", { exact: true }).selectOption("member");
  await ownerPage.getByRole("button", { name: "Invite" }).click();
  await expect(
    ownerPage.getByText("Invited new.person@acme.example as member"),
  ).toBeVisible();
  await expect(
    ownerPage.getByRole("row").filter({ hasText: "new.person@acme.example" }),
  ).toBeVisible();
  await shot(ownerPage, "settings-members");
  await expectAccessible(ownerPage, "members (owner)");
  await ownerPage.goto("/settings/api-keys");
  await ownerPage.getByLabel("Name (optional)").fill("e2e");
  await ownerPage.getByRole("button", { name: "Create key" }).click();
  const key = (await ownerPage.getByTestId("new-api-key").textContent())!;
  expect(key).toMatch(/^pwk_/);
  await shot(ownerPage, "settings-api-keys-new");
  await expectAccessible(ownerPage, "API keys (owner)");
  await ownerPage.reload();
  await expect(
    ownerPage.getByRole("row").filter({ hasText: "e2e" }),
  ).toBeVisible();
  await expect(ownerPage.locator("body")).not.toContainText(key);
  await ownerPage.goto("/settings/audit");
  await expect(
    ownerPage.getByRole("row").filter({ hasText: "api_key.create" }).first(),
  ).toBeVisible();
  await expect(
    ownerPage.getByRole("row").filter({ hasText: "member.add" }).first(),
  ).toBeVisible();
  await shot(ownerPage, "settings-audit");
  await expectAccessible(ownerPage, "audit log");
  await ownerPage.goto("/settings/outbox");
  await expect(
    ownerPage
      .getByRole("row")
      .filter({ hasText: "new.person@acme.example" })
      .first(),
  ).toBeVisible();
  await shot(ownerPage, "outbox");
  await expectAccessible(ownerPage, "outbox");
});

test("dark mode, small screens, and the signed-out pages", async ({
  browser,
}) => {
  const dark = await browser.newContext({
    colorScheme: "dark",
    storageState: await owner.storageState(),
  });
  const page = await dark.newPage();
  for (const [path, name] of [
    ["/overview", "overview"],
    ["/incidents", "incidents"],
    ["/logs?range=30d", "logs"],
    ["/vms/acme-prod-db-1", "vm"],
  ] as const) {
    await page.goto(path);
    await expect(page.locator("main")).toBeVisible();
    await page.waitForLoadState("networkidle");
    await shot(page, `dark-${name}`);
    await expectAccessible(page, `${name} (dark)`);
  }
  await page.getByRole("link", { name: "Incidents" }).first().click();
  await page
    .getByRole("row")
    .filter({ hasText: "db-1" })
    .first()
    .getByRole("link", { name: /^db-1 — / })
    .click();
  await expect(page.locator("#playbook")).toBeVisible();
  await shot(page, "dark-incident");
  await expectAccessible(page, "incident (dark)");
  await dark.close();

  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    storageState: await owner.storageState(),
  });
  const p = await phone.newPage();
  for (const [path, name] of [
    ["/overview", "overview"],
    ["/logs?range=30d", "logs"],
    ["/settings/members", "settings"],
  ] as const) {
    await p.goto(path);
    await p.waitForLoadState("networkidle");
    await shot(p, `mobile-${name}`);
  }
  await p.goto("/incidents");
  await p
    .getByRole("link", { name: /^db-1 — / })
    .first()
    .click();
  await expect(p.locator("#playbook")).toBeVisible();
  await shot(p, "mobile-incident");
  await phone.close();

  const anon = await browser.newContext();
  const a = await anon.newPage();
  await a.goto("/overview");
  await expect(a).toHaveURL(/\/login$/);
  await shot(a, "login");
  await expectAccessible(a, "login");
  await a.goto("/");
  await shot(a, "home");
  await expectAccessible(a, "home");
  await anon.close();
});

test("keyboard: skip link, navigation and an expandable entry", async () => {
  await ownerPage.goto("/overview");
  await ownerPage.keyboard.press("Tab");
  await expect(
    ownerPage.getByRole("link", { name: "Skip to content" }),
  ).toBeFocused();
  await ownerPage.keyboard.press("Enter");
  await ownerPage.goto("/logs?range=30d");
  const first = ownerPage
    .getByRole("list", { name: "Log entries" })
    .getByRole("button")
    .first();
  await first.focus();
  await ownerPage.keyboard.press("Enter");
  await expect(first).toHaveAttribute("aria-expanded", "true");
  await ownerPage.keyboard.press("Enter");
  await expect(first).toHaveAttribute("aria-expanded", "false");
});

test("every page runs under a per-request nonce policy, with no script blocked", async ({
  browser,
}) => {
  const ctx = await ownerContext(browser);
  // Playwright's init scripts are not subject to the page's policy: they record what it blocks
  await ctx.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] };
    w.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      w.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await ctx.newPage();
  const nonces = new Set<string>();
  for (const path of [
    "/overview",
    "/incidents",
    "/logs?range=30d",
    "/vms",
    "/settings/webhooks",
    "/login",
    "/no-such-page",
  ]) {
    const res = await page.goto(path);
    const csp = res!.headers()["content-security-policy"] ?? "";
    expect(csp, path).toMatch(
      /script-src 'self' 'nonce-[^']+' 'strict-dynamic';/,
    );
    nonces.add(/'nonce-([^']+)'/.exec(csp)![1]!);
    await page.waitForLoadState("networkidle");
    expect(
      await page.evaluate(
        () =>
          (window as unknown as { __cspViolations: string[] }).__cspViolations,
      ),
      path,
    ).toEqual([]);
  }
  expect(nonces.size).toBe(7);
  // hydrated under the policy: a client-side control works
  await page.goto("/logs?range=30d");
  const entry = page
    .getByRole("list", { name: "Log entries" })
    .getByRole("button")
    .first();
  await entry.click();
  await expect(entry).toHaveAttribute("aria-expanded", "true");
  // what markup injected into a page could carry, an inline handler, is refused (and seen refused)
  const ran = await page.evaluate(async () => {
    const d = document.createElement("div");
    d.setAttribute("onclick", "window.__injected = true");
    document.body.append(d);
    d.click();
    await new Promise((r) => setTimeout(r, 100));
    return (window as unknown as { __injected?: boolean }).__injected ?? false;
  });
  expect(ran).toBe(false);
  expect(
    await page.evaluate(
      () =>
        (window as unknown as { __cspViolations: string[] }).__cspViolations,
    ),
  ).toEqual(["script-src-attr inline"]);
  await ctx.close();
});
