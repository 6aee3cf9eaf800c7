import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { serviceContext } from "@/server/context";
import { seedDemo } from "@/server/demo/seed";
import {
  countLogEntriesOverTime,
  listLogEntries,
} from "@/server/incidents/log-entries";
import { getOverview } from "@/server/incidents/overview";
import {
  filtersToSearch,
  logHistogramInput,
  logListInput,
  parseLogFilters,
} from "@/app/(console)/logs/params";
import { api, fleet, operator } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { callerFor } from "../helpers/trpc";

// The console says the same thing twice in places; these are the places where it once did not.

describe("the incident page's first and latest error", () => {
  it("are the errors' own times, in order, also after a late (older) event arrives", async () => {
    const f = await fleet();
    const op = await operator();
    const owner = `owner@${f.tenantId}.example`;
    expect(
      (
        await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
          token: op,
          body: { email: owner, role: "owner" },
        })
      ).status,
    ).toBe(201);
    // the error happened 10 minutes before it arrived: the incident opens after it
    const t = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const send = async (time: number, gpa: string) => {
      const r = await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({
          hostId: f.hostId,
          vmId: f.vmId,
          gpa,
          time: new Date(time).toISOString(),
        }),
      });
      expect(r.body.accepted, JSON.stringify(r.body)).toBe(1);
    };
    await send(t, "0x0000000100001000");
    const caller = await callerFor(owner);
    const id = (await caller.incident.list({})).data[0]!.id;
    let inc = await caller.incident.byId({ id });
    expect(Date.parse(inc.openedAt)).toBeGreaterThan(t); // so openedAt is not the first error
    expect(inc.firstErrorAt).toBe(new Date(t).toISOString());
    expect(inc.lastErrorAt).toBe(new Date(t).toISOString());
    // a spooled event from an hour earlier arrives now: it is the first error, the latest stays
    await send(t - 3600_000, "0x0000000100002000");
    inc = await caller.incident.byId({ id });
    expect(inc.firstErrorAt).toBe(new Date(t - 3600_000).toISOString());
    expect(inc.lastErrorAt).toBe(new Date(t).toISOString());
    expect(Date.parse(inc.firstErrorAt)).toBeLessThanOrEqual(
      Date.parse(inc.lastErrorAt),
    );
    // the playbook's summary says the same, in the same order
    const body = inc.playbook.steps.map((s) => s.body).join("\n");
    const stamp = (ms: number) =>
      new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(body).toContain(
      `First error: ${stamp(t - 3600_000)}. Latest error: ${stamp(t)}.`,
    );
  });
});

describe("the overview's error count and the log explorer", () => {
  it("count the same rows: the overview's link opens exactly the range it counted", async () => {
    const db = await getDb();
    await seedDemo(db, new Date("2026-03-10T15:00:00Z"));
    // Looked at when acme's oldest entry is just inside "now − 30 days" (the explorer's 30d) but
    // before the first whole day of the overview's chart: there the two counts differed by one.
    const [oldest] = await rawRows<{ t: string }>(
      db,
      sql`select min(timestamp)::text as t from log_entries where tenant_id = 'acme'`,
    );
    const at = new Date(Date.parse(oldest!.t) + 30 * 86400_000 - 60_000);
    for (const tenantId of ["acme", "globex"]) {
      const ctx = { ...serviceContext(db, "test", tenantId), now: at };
      const o = await getOverview(ctx);
      expect(o.errorTotal).toBe(
        o.errorsByDay.reduce((s, d) => s + d.critical + d.warning, 0),
      );
      // the link of the "Errors, last 30 days" card, read back as the explorer reads it
      const link = filtersToSearch({ range: "custom", ...o.errorRange });
      const filters = parseLogFilters(
        Object.fromEntries(new URLSearchParams(link)),
      );
      expect(filters).toMatchObject({ range: "custom", ...o.errorRange });
      const h = await countLogEntriesOverTime(
        ctx,
        logHistogramInput(filters, at),
      );
      expect(h.total, tenantId).toBe(o.errorTotal);
      // and the list of that view, page by page
      let listed = 0;
      let cursor: string | undefined;
      do {
        const p = await listLogEntries(ctx, {
          ...logListInput(filters, at),
          limit: 500,
          cursor,
        });
        listed += p.data.length;
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
      expect(listed, tenantId).toBe(o.errorTotal);
    }
    // what made them differ: the old link's "30d" (now − 30 days) reached part-way into the day
    // before the chart's first, where acme's oldest entry is
    const ctx = { ...serviceContext(db, "test", "acme"), now: at };
    const o = await getOverview(ctx);
    const rolling = await countLogEntriesOverTime(
      ctx,
      logHistogramInput(parseLogFilters({ range: "30d" }), at),
    );
    expect(rolling.total).toBe(o.errorTotal + 1);
  });
});
