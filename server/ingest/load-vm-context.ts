import { inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { vmPlacements, vms } from "@/db/schema";
import type { KnownVm, PlacementSpan } from "@/server/correlation/correlate-event";

// The VMs and placement history that correlation needs for a set of VM ids.
export async function loadVmContext(db: Db, vmIds: string[]) {
  const vmsById = new Map<string, KnownVm>();
  const placementsByVm = new Map<string, PlacementSpan[]>();
  if (!vmIds.length) return { vmsById, placementsByVm };
  const vmRows = await db
    .select({ id: vms.id, tenantId: vms.tenantId, projectId: vms.projectId, name: vms.name, zone: vms.zone })
    .from(vms)
    .where(inArray(vms.id, vmIds));
  const placementRows = await db
    .select({
      vmId: vmPlacements.vmId,
      hostId: vmPlacements.hostId,
      tenantId: vmPlacements.tenantId,
      projectId: vmPlacements.projectId,
      startedAt: vmPlacements.startedAt,
      endedAt: vmPlacements.endedAt,
    })
    .from(vmPlacements)
    .where(inArray(vmPlacements.vmId, vmIds));
  for (const v of vmRows) vmsById.set(v.id, v);
  for (const p of placementRows) {
    const list = placementsByVm.get(p.vmId) ?? [];
    list.push(p);
    placementsByVm.set(p.vmId, list);
  }
  return { vmsById, placementsByVm };
}
