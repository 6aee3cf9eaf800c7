import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { serviceContext } from "@/server/context";
import { ingestEvents } from "@/server/ingest/ingest-events";
import { runMaintenance } from "@/server/maintenance";
import { fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";

describe("retention", () => {
  it("deletes events and log entries older than RETENTION_DAYS (400) on the maintenance tick, keeps newer ones", async () => {
    const f = await fleet();
    const db = await getDb();
    const now = new Date();
    const old = new Date(now.getTime() - 401 * 86400_000);
    const recent = new Date(now.getTime() - 399 * 86400_000);
    for (const at of [old, recent]) {
      const r = await ingestEvents(
        { ...serviceContext(db, "system"), now: at },
        {
          hostId: f.hostId,
          events: [
            memoryEvent({
              hostId: f.hostId,
              vmId: f.vmId,
              time: at.toISOString(),
            }),
          ],
          mode: "single",
        },
      );
      expect(r.accepted).toBe(1);
    }
    const count = async (table: string) =>
      (
        await rawRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from ${sql.identifier(table)} where tenant_id = ${f.tenantId}`,
        )
      )[0]!.n;
    expect(await count("memory_error_events")).toBe(2);
    expect(await count("log_entries")).toBe(2);
    await runMaintenance(db, now);
    expect(await count("memory_error_events")).toBe(1);
    expect(await count("log_entries")).toBe(1);
    const left = await rawRows<{ received_at: Date }>(
      db,
      sql`select received_at from memory_error_events where tenant_id = ${f.tenantId}`,
    );
    expect(new Date(left[0]!.received_at).toISOString()).toBe(
      recent.toISOString(),
    );
  });
});
