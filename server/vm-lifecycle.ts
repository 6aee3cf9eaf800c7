import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { resolveIncidentsOfDeletedVm } from "@/server/incidents/resolve-deleted";
import { bindLateEvents } from "@/server/ingest/late-binding";
import type { VmInput } from "@/server/inventory/vms";
import { removeVm, storeVm, vmAdminView } from "@/server/inventory/vms";
import { onVmDeleted, onVmPlacementChanged } from "@/server/policy/evacuations";

// Where the inventory meets the domains that follow a VM (the composition root for VM changes):
// the inventory stores the VM and says what changed; here, in the same transaction, ingestion
// binds the events that waited for the VM and the policy follows its placement. The inventory
// imports none of them, so the dependencies point one way.

export async function upsertVm(
  ctx: ServiceContext,
  input: VmInput & { id: string },
) {
  return ctx.db.transaction(async (tx) => {
    const { vm, change } = await storeVm({ ...ctx, db: tx }, input);
    if (change) {
      await bindLateEvents({ ...ctx, db: tx }, { vmId: change.vmId });
      await onVmPlacementChanged(tx, change);
    }
    return vmAdminView(tx, vm);
  });
}

// A deleted VM's evacuation is cancelled, then its incident resolved (a VM that no longer exists
// has no disruption left; a VM re-created with its id starts afresh).
export async function deleteVm(ctx: ServiceContext, input: { id: string }) {
  await ctx.db.transaction(async (tx) => {
    const vm = await removeVm({ ...ctx, db: tx }, input);
    await onVmDeleted(tx, vm.id, ctx.now);
    await resolveIncidentsOfDeletedVm(tx, vm, ctx.now);
    await audit(tx, {
      tenantId: vm.tenantId,
      actor: ctx.actor,
      action: "vm.delete",
      target: vm.id,
    });
  });
}
