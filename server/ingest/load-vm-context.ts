import { inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { vmPlacements, vms } from "@/db/schema";
import type {
  KnownVm,
  PlacementSpan,
} from "@/server/correlation/correlate-event";

// The VMs and placement history that correlation needs for a set of VM ids. The VM rows are held
// "for key share" until the caller's transaction ends: a deletion of one of these VMs waits, so an
// event is never written to a VM (and its incident) that was deleted meanwhile. The two reads are
// sent together (pipelined on the transaction's connection, in this order): on the embedded
// database each statement is a round trip to its thread.
export async function loadVmContext(db: Db, vmIds: string[]) {
  const vmsById = new Map<string, KnownVm>();
  const placementsByVm = new Map<string, PlacementSpan[]>();
  if (!vmIds.length) return { vmsById, placementsByVm };
  const [vmRows, placementRows] = await Promise.all([
    db
      .select({
        id: vms.id,
        incarnation: vms.incarnation,
        tenantId: vms.tenantId,
        projectId: vms.projectId,
        name: vms.name,
        zone: vms.zone,
      })
      .from(vms)
      .where(inArray(vms.id, [...vmIds].sort()))
      .orderBy(vms.id)
      .for("key share"),
    db
      .select({
        vmId: vmPlacements.vmId,
        incarnation: vmPlacements.incarnation,
        hostId: vmPlacements.hostId,
        tenantId: vmPlacements.tenantId,
        projectId: vmPlacements.projectId,
        startedAt: vmPlacements.startedAt,
        endedAt: vmPlacements.endedAt,
      })
      .from(vmPlacements)
      .where(inArray(vmPlacements.vmId, vmIds)),
  ]);
  for (const v of vmRows) vmsById.set(v.id, v);
  for (const p of placementRows) {
    const list = placementsByVm.get(p.vmId) ?? [];
    list.push(p);
    placementsByVm.set(p.vmId, list);
  }
  return { vmsById, placementsByVm };
}
