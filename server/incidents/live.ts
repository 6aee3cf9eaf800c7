import { sql } from "drizzle-orm";
import type { ServiceContext, TenantContext } from "@/server/context";
import { rawRows } from "@/db/client";

// A cheap fingerprint of what the console shows of a tenant: it changes whenever an incident
// changes (new errors, status, resolution) or an evacuation moves (scheduled, started, moved,
// ended). Open console tabs poll it and refetch their data only when it changed; two index
// lookups per poll.
export async function tenantStamp(ctx: TenantContext): Promise<string> {
  const { db, tenantId } = ctx;
  const [row] = await rawRows<{
    inc: string | null;
    n: number;
    evac: string | null;
    m: number;
  }>(
    db,
    sql`select
          (select max(updated_at)::text from incidents where tenant_id = ${tenantId}) as inc,
          (select count(*)::int from incidents where tenant_id = ${tenantId}) as n,
          (select max(greatest(requested_at, started_at, completed_at, cancelled_at))::text from evacuations where tenant_id = ${tenantId}) as evac,
          (select coalesce(sum(reschedule_count), 0)::int from evacuations where tenant_id = ${tenantId} and status in ('scheduled', 'in_progress')) as m`,
  );
  return `${row?.inc ?? "-"}|${row?.n ?? 0}|${row?.evac ?? "-"}|${row?.m ?? 0}`;
}

// How long a restart on a healthy host takes here: the median of the last 100 completed ones
// (start to the VM's new placement), or 10 minutes while there is no history.
export async function typicalRestartSeconds(
  ctx: ServiceContext,
): Promise<number> {
  const { db } = ctx;
  const [row] = await rawRows<{ s: number | null }>(
    db,
    sql`select percentile_cont(0.5) within group (order by extract(epoch from completed_at - started_at))::float8 as s
        from (select completed_at, started_at from evacuations
              where status = 'completed' and started_at is not null and completed_at > started_at
              order by completed_at desc limit 100) x`,
  );
  const s = row?.s === null || row?.s === undefined ? null : Number(row.s);
  return s && Number.isFinite(s) ? Math.max(60, Math.round(s)) : 600;
}
