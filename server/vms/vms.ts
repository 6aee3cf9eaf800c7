import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { type evacuations, vms } from "@/db/schema";
import { NotFoundError } from "@/server/errors";
import { evacuationBrief } from "@/server/incidents/incidents";
import type { TenantContext } from "@/server/context";
import { keysetAfter, ListQuery, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";
import type { Policy } from "@/server/policy/thresholds";
import { latestEvacuations, vmSummaries } from "@/server/policy/host-health";
import { getPolicy } from "@/server/policy/thresholds";

export const VmQuery = ListQuery.extend({});

type VmRow = typeof vms.$inferSelect;

// The evacuation a VM's memory-health gauge shows: the active one, or the latest that ended within
// the policy window (so a tenant sees "completed at …" after the restart, not nothing).
async function shownEvacuations(
  db: Db,
  vmIds: string[],
  at: Date,
  policy: Policy,
) {
  const since = at.getTime() - policy.windowSeconds * 1000;
  const out = new Map<string, typeof evacuations.$inferSelect>();
  for (const [vmId, e] of await latestEvacuations(db, vmIds)) {
    const endedAt = e.completedAt ?? e.cancelledAt;
    if (!endedAt || endedAt.getTime() >= since) out.set(vmId, e);
  }
  return out;
}

function vmView(
  v: VmRow,
  pages: number,
  policy: Policy,
  evac: typeof evacuations.$inferSelect | undefined,
) {
  return {
    id: v.id,
    name: v.name,
    projectId: v.projectId,
    zone: v.zone,
    state: v.hostId ? ("running" as const) : ("stopped" as const),
    memoryHealth: {
      distinctPages: pages,
      threshold: policy.vmPages,
      windowSeconds: policy.windowSeconds,
      evacuation: evac
        ? {
            ...evacuationBrief(evac),
            completedAt: iso(evac.completedAt),
            cancelledAt: iso(evac.cancelledAt),
          }
        : null,
    },
  };
}
export type VmView = ReturnType<typeof vmView>;

async function viewsOf(db: Db, rows: VmRow[], at: Date) {
  const policy = await getPolicy(db);
  const ids = rows.map((r) => r.id);
  // the policy's own count: repeats once, unlocated errors each a page, reset by a completed evacuation
  const [pages, evacs] = [
    await vmSummaries(db, ids, at, policy),
    await shownEvacuations(db, ids, at, policy),
  ];
  return rows.map((r) =>
    vmView(r, pages.get(r.id)?.distinctPages ?? 0, policy, evacs.get(r.id)),
  );
}

export async function listVms(
  ctx: TenantContext,
  q: { limit: number; cursor?: string; projectId?: string },
) {
  const { db, tenantId } = ctx;
  const conds = [
    eq(vms.tenantId, tenantId),
    keysetAfter(q.cursor, { id: vms.id }),
  ];
  if (q.projectId) conds.push(eq(vms.projectId, q.projectId));
  const rows = await db
    .select()
    .from(vms)
    .where(and(...conds))
    .orderBy(asc(vms.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [r.id]);
  return {
    data: await viewsOf(db, p.data, ctx.now),
    nextCursor: p.nextCursor,
  };
}

export async function getVmForTenant(
  ctx: TenantContext,
  input: { vmId: string },
) {
  const { db, tenantId } = ctx;
  const { vmId } = input;
  const [row] = await db
    .select()
    .from(vms)
    .where(and(eq(vms.tenantId, tenantId), eq(vms.id, vmId)));
  if (!row) throw new NotFoundError(`No VM ${vmId}`);
  return (await viewsOf(db, [row], ctx.now))[0]!;
}

// Distinct pages of one VM per day, for the console's memory-health chart.
export async function vmPagesOverTime(
  db: Db,
  tenantId: string,
  vmId: string,
  since: Date,
) {
  return rawRows<{ day: string; pages: number; errors: number }>(
    db,
    sql`select to_char(date_trunc('day', event_time at time zone 'UTC'), 'YYYY-MM-DD') as day,
               count(distinct coalesce(page_key, 'unlocated:' || id))::int as pages, count(*)::int as errors
        from memory_error_events
        where tenant_id = ${tenantId} and vm_id = ${vmId} and event_time >= ${since.toISOString()}::timestamptz
        group by 1 order by 1`,
  );
}
