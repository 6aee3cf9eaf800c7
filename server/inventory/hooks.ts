import type { Db } from "@/db/client";
import type { vms } from "@/db/schema";
import { resolveIncidentsOfDeletedVm } from "@/server/incidents/resolve-deleted";
import { bindLateEvents } from "@/server/ingest/late-binding";
import { onVmDeleted, onVmPlacementChanged } from "@/server/policy/evacuations";

export type VmChange = {
  vmId: string;
  at: Date;
  previousHostId: string | null;
  hostId: string | null;
  isNew: boolean;
};

// What other domains do, inside the same transaction, when the inventory learns or moves a VM.
export async function runVmChangedHooks(
  db: Db,
  change: VmChange,
): Promise<void> {
  await bindLateEvents(db, change.vmId);
  await onVmPlacementChanged(db, change);
}

// ... and when it deletes one: its evacuation is cancelled, then its incident resolved (a VM that
// no longer exists has no disruption left; a VM re-created with its id starts afresh).
export async function runVmDeletedHooks(
  db: Db,
  vm: typeof vms.$inferSelect,
  at: Date,
): Promise<void> {
  await onVmDeleted(db, vm.id, at);
  await resolveIncidentsOfDeletedVm(db, vm, at);
}
