import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import { incidentTimeline } from "@/db/schema";
import type { Policy } from "@/server/policy/thresholds";
import { getPolicy } from "@/server/policy/thresholds";
import { afterIncidentChanges } from "./after-change";
import type { IncidentChange } from "./record-events";

// An incident resolves after the quiet period without a new error, once no evacuation is pending.
// Safe to run from several processes at once: rows are claimed with SKIP LOCKED.
export async function resolveQuietIncidents(
  db: Db,
  at: Date,
  limit = 500,
): Promise<number> {
  const policy = await getPolicy(db);
  const cutoff = new Date(at.getTime() - policy.quietPeriodSeconds * 1000);
  return db.transaction(async (tx) => {
    const rows = await rawRows<{
      id: string;
      tenant_id: string;
      project_id: string;
      vm_id: string;
      guest_kernel: boolean;
    }>(
      tx,
      sql`update incidents set status = 'resolved', resolved_at = ${at.toISOString()}::timestamptz,
            updated_at = ${at.toISOString()}::timestamptz, version = version + 1
          where id in (
            select i.id from incidents i
            where i.status = 'open' and i.last_error_at < ${cutoff.toISOString()}::timestamptz
              and not exists (select 1 from evacuations e where e.vm_incarnation = i.vm_incarnation and e.status in ('scheduled', 'in_progress'))
            order by i.last_error_at
            limit ${limit}
            for update skip locked)
          returning id, tenant_id, project_id, vm_id, guest_kernel`,
    );
    if (!rows.length) return 0;
    const resolved = rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      projectId: r.project_id,
      vmId: r.vm_id,
      guestKernel: r.guest_kernel,
    }));
    await afterResolving(
      tx,
      resolved,
      at,
      `Resolved: no new memory error for ${Math.round(policy.quietPeriodSeconds / 3600)} h`,
      { policy },
    );
    return rows.length;
  });
}

type Resolved = {
  id: string;
  tenantId: string;
  projectId: string;
  vmId: string;
  guestKernel: boolean;
};

// What resolving incidents causes, in the transaction that resolved them: the timeline entry saying
// why, then the policy and the (coalesced) notifications.
export async function afterResolving(
  tx: Db,
  rows: Resolved[],
  at: Date,
  summary: string,
  opts: { policy?: Policy; because?: IncidentChange["resolvedBecause"] } = {},
): Promise<void> {
  if (!rows.length) return;
  await tx.insert(incidentTimeline).values(
    rows.map((r) => ({
      id: newId("tle"),
      incidentId: r.id,
      tenantId: r.tenantId,
      at,
      kind: "resolved",
      summary,
      logEntryId: null,
    })),
  );
  const changes: IncidentChange[] = rows.map((r) => ({
    incidentId: r.id,
    tenantId: r.tenantId,
    projectId: r.projectId,
    vmId: r.vmId,
    kind: "resolved",
    ...(opts.because ? { resolvedBecause: opts.because } : {}),
    logEntryIds: [],
    newPages: 0,
    severityRaised: false,
    guestKernel: r.guestKernel,
  }));
  await afterIncidentChanges(tx, changes, [], at, opts.policy);
}
