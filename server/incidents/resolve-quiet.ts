import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import { incidentTimeline } from "@/db/schema";
import { getPolicy } from "@/server/policy/policy-settings";
import { afterIncidentChanges } from "./after-change";
import type { IncidentChange } from "./record-events";

// An incident resolves after the quiet period without a new error, once no evacuation is pending.
// Safe to run from several processes at once: rows are claimed with SKIP LOCKED.
export async function resolveQuietIncidents(db: Db, at: Date, limit = 500): Promise<number> {
  const policy = await getPolicy(db);
  const cutoff = new Date(at.getTime() - policy.quietPeriodSeconds * 1000);
  return db.transaction(async (tx) => {
    const rows = await rawRows<{ id: string; tenant_id: string; project_id: string; vm_id: string; guest_kernel: boolean }>(
      tx,
      sql`update incidents set status = 'resolved', resolved_at = ${at.toISOString()}::timestamptz,
            updated_at = ${at.toISOString()}::timestamptz, version = version + 1
          where id in (
            select i.id from incidents i
            where i.status = 'open' and i.last_error_at < ${cutoff.toISOString()}::timestamptz
              and not exists (select 1 from evacuations e where e.vm_id = i.vm_id and e.status in ('scheduled', 'in_progress'))
            order by i.last_error_at
            limit ${limit}
            for update skip locked)
          returning id, tenant_id, project_id, vm_id, guest_kernel`,
    );
    if (!rows.length) return 0;
    await tx.insert(incidentTimeline).values(
      rows.map((r) => ({
        id: newId("tle"),
        incidentId: r.id,
        tenantId: r.tenant_id,
        at,
        kind: "resolved",
        summary: `Resolved: no new memory error for ${Math.round(policy.quietPeriodSeconds / 3600)} h`,
        logEntryId: null,
      })),
    );
    const changes: IncidentChange[] = rows.map((r) => ({
      incidentId: r.id,
      tenantId: r.tenant_id,
      projectId: r.project_id,
      vmId: r.vm_id,
      kind: "resolved",
      logEntryIds: [],
      newPages: 0,
      severityRaised: false,
      guestKernel: r.guest_kernel,
    }));
    await afterIncidentChanges(tx, changes, [], at, policy);
    return rows.length;
  });
}
