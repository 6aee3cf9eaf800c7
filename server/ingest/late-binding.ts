import { and, eq, inArray } from "drizzle-orm";
import type { ServiceContext } from "@/server/context";
import { newId } from "@/db/ids";
import { memoryErrorEvents } from "@/db/schema";
import { log } from "@/server/log";
import { correlateEvent } from "@/server/correlation/correlate-event";
import { afterIncidentChanges } from "@/server/incidents/after-change";
import { recordCorrelatedEvents } from "@/server/incidents/record-events";
import type { CorrelatedEvent } from "@/server/incidents/incident-change";
import { parseCloudEvent } from "./event-schema";
import { loadVmContext } from "./load-vm-context";
import { normalizeEvent } from "./normalize-event";

// When the inventory learns a VM, its unknown_vm events are correlated then, and tenants told then.
// Runs inside the inventory change's transaction.
// ctx.db is the inventory change's transaction.
export async function bindLateEvents(
  ctx: ServiceContext,
  input: { vmId: string },
): Promise<number> {
  const { db: tx, now: at } = ctx;
  const { vmId } = input;
  const pending = await tx
    .select()
    .from(memoryErrorEvents)
    .where(
      and(
        eq(memoryErrorEvents.vmId, vmId),
        eq(memoryErrorEvents.uncorrelatedReason, "unknown_vm"),
      ),
    )
    .orderBy(memoryErrorEvents.eventTime)
    .for("update");
  if (!pending.length) return 0;
  const { vmsById, placementsByVm } = await loadVmContext(tx, [vmId]);
  const vm = vmsById.get(vmId);
  if (!vm) return 0;
  const correlated: CorrelatedEvent[] = [];
  const mismatched: string[] = [];
  for (const ev of pending) {
    const corr = correlateEvent({
      vm,
      placements: placementsByVm.get(vmId) ?? [],
      hostId: ev.hostId,
      time: ev.eventTime,
    });
    if (corr.kind === "uncorrelated") {
      if (corr.reason === "host_mismatch") mismatched.push(ev.id);
      continue;
    }
    // An event stored by an earlier version may not fit today's contract (a number out of range):
    // it stays uncorrelated for the operator to see, and never fails the inventory change.
    const parsed = parseCloudEvent(ev.raw, null);
    let norm: ReturnType<typeof normalizeEvent>;
    try {
      if (!parsed.ok) throw new Error(parsed.message);
      norm = normalizeEvent(parsed.event.data, vm.name);
    } catch (e) {
      log.warn("late binding skipped a stored event that no longer parses", {
        eventId: ev.id,
        vmId,
        error: e,
      });
      continue;
    }
    const logEntryId = newId("log");
    await tx
      .update(memoryErrorEvents)
      .set({
        tenantId: corr.tenantId,
        projectId: corr.projectId,
        vmIncarnation: corr.incarnation,
        uncorrelatedReason: null,
        logEntryId,
      })
      .where(eq(memoryErrorEvents.id, ev.id));
    correlated.push({
      eventId: ev.id,
      logEntryId,
      vm,
      tenantId: corr.tenantId,
      projectId: corr.projectId,
      hostId: ev.hostId,
      eventTime: ev.eventTime,
      receivedAt: ev.receivedAt,
      data: parsed.event.data,
      norm,
    });
  }
  if (mismatched.length) {
    await tx
      .update(memoryErrorEvents)
      .set({ uncorrelatedReason: "host_mismatch" })
      .where(inArray(memoryErrorEvents.id, mismatched));
  }
  const changes = await recordCorrelatedEvents(tx, correlated, at);
  await afterIncidentChanges(
    tx,
    changes,
    [...new Set(correlated.map((c) => c.hostId))],
    at,
  );
  return correlated.length;
}
