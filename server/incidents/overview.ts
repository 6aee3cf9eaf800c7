import { and, eq, ne, sql } from "drizzle-orm";
import type { TenantContext } from "@/server/context";
import { rawRows } from "@/db/client";
import { incidents } from "@/db/schema";
import { fillIncidentPlaybook } from "./incident-detail";
import { typicalRestartSeconds } from "./live";
import { actionBeforeRestart } from "./action-before-restart";
import { evacuationsOf, incidentView } from "./incidents";

export const OVERVIEW_DAYS = 30;

// The errors the overview counts: the chart's whole UTC days, from the first one's 00:00 up to now
// (until exclusive, as the log explorer's ranges). Not "now − 30 days": that starts part-way through
// a day the chart does not show, and the count and the explorer's rows would not be the same.
export function overviewErrorRange(at: Date) {
  const dayMs = 86400_000;
  const today = Math.floor(at.getTime() / dayMs) * dayMs;
  return {
    since: new Date(today - (OVERVIEW_DAYS - 1) * dayMs),
    until: at,
  };
}

// The console's first page: what is open now and how many errors hit the tenant each day.
export async function getOverview(ctx: TenantContext) {
  const { db, tenantId, now: at } = ctx;
  const open = await db
    .select()
    .from(incidents)
    .where(
      and(eq(incidents.tenantId, tenantId), ne(incidents.status, "resolved")),
    )
    .orderBy(
      sql`${incidents.openedAt} desc nulls last`,
      sql`${incidents.id} desc nulls last`,
    )
    .limit(100);
  const evacs = await evacuationsOf(
    db,
    open.map((r) => r.id),
  );
  const { since, until } = overviewErrorRange(at);
  const dayMs = 86400_000;
  const rows = await rawRows<{
    day: string;
    severity: "CRITICAL" | "WARNING";
    n: number;
  }>(
    db,
    sql`select to_char(date_trunc('day', timestamp at time zone 'UTC'), 'YYYY-MM-DD') as day, severity, count(*)::int as n
        from log_entries
        where tenant_id = ${tenantId} and timestamp >= ${since.toISOString()}::timestamptz
          and timestamp < ${until.toISOString()}::timestamptz
        group by 1, 2`,
  );
  const byDay = new Map<
    string,
    { day: string; critical: number; warning: number }
  >();
  for (let i = 0; i < OVERVIEW_DAYS; i++) {
    const day = new Date(since.getTime() + i * dayMs)
      .toISOString()
      .slice(0, 10);
    byDay.set(day, { day, critical: 0, warning: 0 });
  }
  for (const r of rows) {
    const d = byDay.get(r.day);
    if (!d) continue;
    if (r.severity === "CRITICAL") d.critical += Number(r.n);
    else d.warning += Number(r.n);
  }
  const errorsByDay = [...byDay.values()];
  // what to do before each restart that is coming or under way (the banners)
  const beforeRestart: Record<string, string | null> = {};
  for (const r of open) {
    const e = evacs.get(r.id);
    if (e && (e.status === "scheduled" || e.status === "in_progress")) {
      beforeRestart[r.id] = actionBeforeRestart(
        (await fillIncidentPlaybook(db, r, e)).steps,
      );
    }
  }
  return {
    beforeRestart,
    typicalRestartSeconds: Object.keys(beforeRestart).length
      ? await typicalRestartSeconds(ctx)
      : 600,
    openIncidents: open.map((r) => incidentView(r, evacs.get(r.id) ?? null)),
    affectedVmIds: [...new Set(open.map((r) => r.vmId))],
    errorsByDay,
    // the exact range counted, for the link to the same rows in the log explorer
    errorRange: { since: since.toISOString(), until: until.toISOString() },
    errorTotal: errorsByDay.reduce((s, d) => s + d.critical + d.warning, 0),
  };
}
export type Overview = Awaited<ReturnType<typeof getOverview>>;
