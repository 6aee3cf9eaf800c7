import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { ownerContext } from "./helpers";

// A console page's Suspense boundary is hydrated from the server's HTML, never thrown away and
// rendered again on the client, even when the page's data streams in after the live poll's first
// answer. (A context above the boundary whose value changed at that moment made React client-render
// the boundary; until the stream ended the document then held two copies of the page, the server's
// hidden, and a test that looked for "the" form could find both.)
//
// The moment is made certain by holding a lock on the table the page reads, so its data streams in
// only after the poll has been answered. That needs the database server: in the PGlite run the app
// is the one process that may open the database, so this test runs in the PostgreSQL run only.

const PAGE = "/settings/webhooks";

test("a page whose data streams in after the live poll's first answer is hydrated, not rendered again", async ({
  browser,
}) => {
  const url = process.env.PW_E2E_DATABASE_URL;
  test.skip(
    !url,
    "needs the PostgreSQL run: the test holds a lock the page's query waits for",
  );
  const ctx = await ownerContext(browser);
  const page = await ctx.newPage();
  const sql = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`lock table webhook_endpoints in access exclusive mode`;
      const stamp = page.waitForResponse(
        (r) => r.url().includes("/api/trpc/incident.stamp") && r.ok(),
      );
      await page.goto(PAGE, { waitUntil: "commit" });
      // the shell is shown and hydrated (the poll runs in it) while the page's data waits
      await expect(page.getByText("Loading webhook endpoints…")).toBeAttached();
      await stamp;
      // give React the frames it needs to take in the poll's answer before the data arrives
      await page.evaluate(
        () =>
          new Promise<void>((r) =>
            requestAnimationFrame(() =>
              requestAnimationFrame(() => setTimeout(r, 100)),
            ),
          ),
      );
    });
  } finally {
    await sql.end();
  }
  const form = page.locator("#create-webhook");
  await expect(form).toBeVisible();
  await expect(page.locator('div[hidden][id^="S:"]')).toHaveCount(0);
  await expect(form).toHaveCount(1);
  // useId gives server-rendered elements _R_… ids and client-rendered ones _r_…: the form's field
  // still carries the server's
  const ids = await form
    .locator("[id]")
    .evaluateAll((els) =>
      els.map((e) => e.id).filter((id) => /^_r_/i.test(id)),
    );
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.filter((id) => id.startsWith("_r_"))).toEqual([]);
  await ctx.close();
});
