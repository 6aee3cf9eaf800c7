import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { env } from "@/server/env";
import { metrics } from "@/server/metrics";

const BATCH = 5000;

// RETENTION_DAYS: events, log entries and delivery attempts older than this are deleted, a bounded
// batch per table per maintenance tick so a large backlog never holds a long transaction.
export async function enforceRetention(
  db: Db,
  at: Date,
  days = env().RETENTION_DAYS,
): Promise<Record<string, number>> {
  const cutoff = new Date(at.getTime() - days * 86400_000).toISOString();
  const targets: [string, string][] = [
    ["memory_error_events", "received_at"],
    ["log_entries", "receive_timestamp"],
    ["webhook_attempts", "at"],
  ];
  const deleted: Record<string, number> = {};
  for (const [table, column] of targets) {
    const rows = await rawRows<{ n: number }>(
      db,
      sql`with gone as (
            delete from ${sql.identifier(table)} where id in (
              select id from ${sql.identifier(table)} where ${sql.identifier(column)} < ${cutoff}::timestamptz limit ${BATCH})
            returning 1)
          select count(*)::int as n from gone`,
    );
    deleted[table] = rows[0]?.n ?? 0;
    if (deleted[table]) metrics.retentionDeleted.inc({ table }, deleted[table]);
  }
  return deleted;
}
