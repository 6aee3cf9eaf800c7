import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { evacuations, incidents, incidentTimeline } from "@/db/schema";
import { NotFoundError } from "@/server/errors";
import type { TenantContext } from "@/server/context";
import { keysetAfter, ListQuery, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import { getPlaybookMeta } from "@/server/playbooks/catalog";
import type { PlaybookKey } from "@/server/playbooks/catalog";

export const IncidentQuery = ListQuery.extend({
  status: z.enum(["open", "evacuating", "resolved"]).optional(),
  vmId: OperatorId.optional(),
  projectId: OperatorId.optional(),
});
export type IncidentQuery = z.infer<typeof IncidentQuery>;

type IncidentRow = typeof incidents.$inferSelect;
type EvacuationRow = typeof evacuations.$inferSelect;

// An evacuation as tenants see it on an incident or a VM (no host).
export function evacuationBrief(e: EvacuationRow) {
  return {
    id: e.id,
    status: e.status,
    scheduledFor: iso(e.scheduledFor),
    deadline: iso(e.deadline),
    requestedAt: iso(e.requestedAt),
  };
}

export function incidentView(r: IncidentRow, evac: EvacuationRow | null) {
  const meta = getPlaybookMeta(r.playbookKey as PlaybookKey);
  return {
    id: r.id,
    status: r.status,
    severity: r.severity,
    projectId: r.projectId,
    vmId: r.vmId,
    vmName: r.vmName,
    zone: r.zone,
    openedAt: iso(r.openedAt),
    updatedAt: iso(r.updatedAt),
    resolvedAt: iso(r.resolvedAt),
    errorCount: r.errorCount,
    distinctPages: r.distinctPages,
    playbook: {
      key: r.playbookKey,
      version: r.playbookVersion,
      title: meta.title,
    },
    evacuation: evac ? evacuationBrief(evac) : null,
  };
}
export type IncidentView = ReturnType<typeof incidentView>;

// The latest evacuation of each incident.
export async function evacuationsOf(db: Db, incidentIds: string[]) {
  const out = new Map<string, EvacuationRow>();
  if (!incidentIds.length) return out;
  const rows = await db
    .select()
    .from(evacuations)
    .where(inArray(evacuations.incidentId, incidentIds))
    .orderBy(asc(evacuations.requestedAt));
  for (const r of rows) if (r.incidentId) out.set(r.incidentId, r);
  return out;
}

export async function listIncidents(ctx: TenantContext, q: IncidentQuery) {
  const { db, tenantId } = ctx;
  const conds = [
    eq(incidents.tenantId, tenantId),
    keysetAfter(q.cursor, { at: incidents.openedAt, id: incidents.id }),
  ];
  if (q.status) conds.push(eq(incidents.status, q.status));
  if (q.vmId) conds.push(eq(incidents.vmId, q.vmId));
  if (q.projectId) conds.push(eq(incidents.projectId, q.projectId));
  const rows = await db
    .select()
    .from(incidents)
    .where(and(...conds))
    // NULLS LAST as in incidents_tenant_id_opened_at_id_idx, so the index gives the order
    .orderBy(
      sql`${incidents.openedAt} desc nulls last`,
      sql`${incidents.id} desc nulls last`,
    )
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [iso(r.openedAt), r.id]);
  const evacs = await evacuationsOf(
    db,
    p.data.map((r) => r.id),
  );
  return {
    data: p.data.map((r) => incidentView(r, evacs.get(r.id) ?? null)),
    nextCursor: p.nextCursor,
  };
}

export async function getIncidentRowForTenant(
  db: Db,
  tenantId: string,
  id: string,
): Promise<IncidentRow> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.id, id)));
  if (!row) throw new NotFoundError(`No incident ${id}`);
  return row;
}

export async function getIncidentTimeline(db: Db, incidentId: string) {
  const rows = await db
    .select()
    .from(incidentTimeline)
    .where(eq(incidentTimeline.incidentId, incidentId))
    .orderBy(asc(incidentTimeline.at), asc(incidentTimeline.id))
    .limit(1000);
  return rows.map((t) => ({
    at: iso(t.at),
    kind: t.kind,
    summary: t.summary,
    ...(t.logEntryId ? { logEntryId: t.logEntryId } : {}),
  }));
}
