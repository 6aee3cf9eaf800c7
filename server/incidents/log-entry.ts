import type { logEntries } from "@/db/schema";
import { iso } from "@/server/core/time";
import type { CorrelatedEvent } from "./incident-change";

// jsonPayload of spec.md's log entry. gva/gpa appear only where the event made them valid;
// host identities never appear.
export function buildLogEntryPayload(
  e: CorrelatedEvent,
): Record<string, unknown> {
  const p: Record<string, unknown> = {
    message: e.norm.message,
    arch: e.data.arch,
    vcpu: e.data.vcpu ?? null,
    guestMode: e.data.guestMode ?? "unknown",
    actions: e.data.actions ?? [],
    eventId: e.eventId,
    mechanism: e.data.mechanism,
    consumed: e.norm.consumed,
  };
  if (e.norm.gpa) p.gpa = e.norm.gpa;
  if (e.norm.gva) p.gva = e.norm.gva;
  if (e.norm.pageSize) p.pageSize = e.norm.pageSize;
  p.esr = e.norm.esr ?? null;
  if (e.data.mechanism === "sigbus" && e.data.sigbus) {
    p.sigbus = { code: e.data.sigbus.code, addrLsb: e.data.sigbus.addrLsb };
  }
  if (e.data.mechanism === "qemu_memory_failure" && e.data.qemu) {
    p.qemu = {
      recipient: e.data.qemu.recipient,
      action: e.data.qemu.action,
      flags: e.data.qemu.flags,
    };
  }
  return p;
}

export function logEntryView(r: typeof logEntries.$inferSelect) {
  return {
    insertId: r.id,
    timestamp: iso(r.timestamp),
    receiveTimestamp: iso(r.receiveTimestamp),
    severity: r.severity,
    logName: `projects/${r.projectId}/logs/memory_errors`,
    resource: {
      type: "vm_instance" as const,
      labels: { projectId: r.projectId, vmId: r.vmId, zone: r.zone },
    },
    incidentId: r.incidentId,
    playbook: r.playbook,
    jsonPayload: r.jsonPayload,
  };
}
export type LogEntryView = ReturnType<typeof logEntryView>;
