import type { Db } from "@/db/client";
import { bindLateEvents } from "@/server/ingest/late-binding";
import { onVmDeleted, onVmPlacementChanged } from "@/server/policy/evacuations";

export type VmChange = { vmId: string; at: Date; previousHostId: string | null; hostId: string | null; isNew: boolean };

// What other domains do, inside the same transaction, when the inventory learns or moves a VM.
export async function runVmChangedHooks(db: Db, change: VmChange): Promise<void> {
  await bindLateEvents(db, change.vmId);
  await onVmPlacementChanged(db, change);
}

// ... and when it deletes one.
export async function runVmDeletedHooks(db: Db, vmId: string, at: Date): Promise<void> {
  await onVmDeleted(db, vmId, at);
}
